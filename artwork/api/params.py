"""Query and path parameters shared by routes, with the text rules every one of them obeys.

Identifiers and context values must be printable: no control characters, and not blank or
padded with whitespace (``%20``, ``%09``, ``%C2%A0``): those are refused with 422 before any
work is done.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

#: Printable, no control characters (C0, DEL, C1), no leading or trailing whitespace.
PRINTABLE = r"^[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$"
#: The title ids ``artwork.ingest`` accepts.
TITLE_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

UserId = Annotated[
    str,
    Query(
        min_length=1,
        max_length=128,
        pattern=PRINTABLE,
        description="The member.",
        examples=["member-0001"],
    ),
]
Device = Annotated[
    str,
    Query(
        min_length=1,
        max_length=64,
        pattern=PRINTABLE,
        description="tv, mobile, web, ...",
        examples=["tv"],
    ),
]
Country = Annotated[
    str,
    Query(
        min_length=1,
        max_length=64,
        pattern=PRINTABLE,
        description="ISO country code.",
        examples=["GB"],
    ),
]
TitleId = Annotated[
    str, Path(pattern=TITLE_ID, description="The title's id.", examples=["big-buck-bunny"])
]
