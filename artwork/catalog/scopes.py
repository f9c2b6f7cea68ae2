"""What an API key may do: its scopes (a key may hold several).

Kept apart from the key store so that the command line can offer the scopes without
importing the database layer.

=========  ==============================================================
``client``  homepage, artwork per title, rewards, decisions, interactions
``editor``  titles, variants, uploads, jobs
``admin``   API keys
``replace`` (with ``editor``) uploads that replace an existing title
=========  ==============================================================
"""

from __future__ import annotations

from collections.abc import Iterable

SCOPES = ("client", "editor", "admin", "replace")


def check_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes as a set, refusing unknown names and an empty set.

    Raises:
        ValueError: no scope, or one not in :data:`SCOPES` (named).
    """
    found = frozenset(scopes)
    if not found:
        raise ValueError(f"a key needs at least one scope: {', '.join(SCOPES)}")
    unknown = sorted(found - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; valid scopes: {', '.join(SCOPES)}")
    return found
