"""The fast signer writes exactly the ids EventIdSigner writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from artwork.bandit.event_ids import EventIdSigner
from artwork.bandit.fast_ids import FastEventIdSigner
from artwork.errors import EventNotFoundError

NOW = datetime(2026, 12, 1, 12, 0, 30, 500_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("member", "title", "principal"),
    [("member-1", "title-1", ""), ("m\u00e9", 't"\\\u2028\U0001f600', "key-9"), ("", "", "")],
)
def test_same_bytes_as_the_reference_signer(member: str, title: str, principal: str) -> None:
    reference, fast = EventIdSigner(b"k" * 32), FastEventIdSigner(b"k" * 32)
    key = "0123456789abcdef" * 2
    expected = reference.issue(member, title, issued_at=NOW, principal=principal, key=key)
    assert fast.issue(member, title, issued_at=NOW, principal=principal, key=key) == expected
    claims = reference.verify(fast.issue(member, title, issued_at=NOW, principal=principal))
    assert (claims.user_id, claims.title_id, claims.principal) == (member, title, principal)
    assert len(claims.key) == 32


def test_keys_are_fresh() -> None:
    fast = FastEventIdSigner(b"k" * 32)
    assert len({fast.verify(fast.issue("m", "t", issued_at=NOW)).key for _ in range(100)}) == 100


def test_a_long_secret_signs_the_same() -> None:
    secret = bytes(range(200))
    key = "f" * 32
    assert FastEventIdSigner(secret).issue("m", "t", issued_at=NOW, key=key) == EventIdSigner(
        secret
    ).issue("m", "t", issued_at=NOW, key=key)


def test_it_verifies_what_either_signer_issued() -> None:
    reference, fast = EventIdSigner(b"k" * 32), FastEventIdSigner(b"k" * 32)
    assert fast.verify(reference.issue("m", "t", issued_at=NOW)).user_id == "m"
    with pytest.raises(EventNotFoundError):
        fast.verify(EventIdSigner(b"x" * 32).issue("m", "t", issued_at=NOW))
