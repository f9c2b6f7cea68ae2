"""The homepage as JSON bytes, from pieces encoded once.

A page lists ~200 items, each ``{"title_id", "name", "artwork": {"variant_id", "url",
"event_id"}}``; only the event id changes from page to page. Encoding the page as one
structure spent ~1 ms a page building and serialising ~800 small dicts. Here each item's text
up to its event id is encoded once per (title, variant, aspect, base URL) and kept, and a page
is the join of those pieces and its event ids. The bytes are exactly what
``json.dumps(body, ensure_ascii=False, separators=(",", ":"))`` gives for the same page
(``tests/api/test_page_json.py`` compares them).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from artwork.api.routes.artwork_urls import artwork_json
from artwork.domain import Title, Variant
from artwork.page_assembly import ArtworkChoice, ArtworkPage

ITEMS_KEPT = 100_000
"""Items (title, variant, aspect, base URL) whose encoded text is kept; the cache starts over
when it is full."""

#: Text that JSON writes as is between quotes (event ids are base64url and dots).
_PLAIN = re.compile(r"[A-Za-z0-9._~-]*")


def _string(text: str) -> str:
    """``text`` as a JSON string, as ``json.dumps(..., ensure_ascii=False)`` writes it."""
    if _PLAIN.fullmatch(text):
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


class PageEncoder:
    """Encodes pages; safe to share between threads (a lost race encodes an item twice)."""

    def __init__(self) -> None:
        # id(variant) -> (variant, title, aspect, base_url, text before the event id): the
        # objects are kept alive with their entry, so an id is not reused while cached.
        self._items: dict[int, tuple[Variant, Title, str | None, str, str]] = {}
        self._lock = threading.Lock()

    def encode(self, page: ArtworkPage, base_url: str, aspect: str | None) -> bytes:
        """The page as ``HomepagePublic`` JSON."""
        parts = [f'{{"user_id":{_string(page.user_id)},"rows":[']
        for r, shown in enumerate(page.rows):
            row = shown.row
            parts.append(
                f'{"," if r else ""}{{"id":{_string(row.row_id)},"title":'
                f'{_string(row.heading)},"items":['
            )
            items = self._items
            for i, choice in enumerate(shown.items):
                variant, title = choice.variant, choice.title
                known = items.get(id(variant))
                if (
                    known is None
                    or known[0] is not variant
                    or known[1] is not title
                    or known[2] != aspect
                    or known[3] != base_url
                ):
                    known = self._remember(choice, aspect, base_url)
                if i:
                    parts.append(",")
                parts.append(known[4])
                parts.append(_string(choice.decision.event_id))
                parts.append("}}")
            parts.append("]}")
        parts.append("]}")
        return "".join(parts).encode("utf-8")

    def _remember(
        self, choice: ArtworkChoice, aspect: str | None, base_url: str
    ) -> tuple[Variant, Title, str | None, str, str]:
        head: dict[str, Any] = {
            "title_id": choice.title.title_id,
            "name": choice.title.name,
            # The route's artwork object, its event id left to each page.
            "artwork": artwork_json(base_url, choice, aspect) | {"event_id": None},
        }
        text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
        # Everything up to the event id's value: the text ends with `null}}`.
        entry = (choice.variant, choice.title, aspect, base_url, text[: -len("null}}")])
        with self._lock:
            if len(self._items) >= ITEMS_KEPT:
                self._items.clear()
            self._items[id(choice.variant)] = entry
        return entry
