"""Signed event ids: round trip, tamper detection, the secret file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from artwork.bandit.event_ids import EventIdSigner, load_or_create_secret
from artwork.errors import EventNotFoundError, StorageError

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_round_trip_keeps_every_claim() -> None:
    signer = EventIdSigner(b"k" * 32)
    event_id = signer.issue("member-1", "title-é", issued_at=NOW, principal="key-9")
    claims = signer.verify(event_id)
    assert (claims.user_id, claims.title_id, claims.principal) == ("member-1", "title-é", "key-9")
    assert claims.issued_at == NOW
    assert len(claims.key) == 32
    assert signer.verify(event_id) == claims


def test_ids_are_unique() -> None:
    signer = EventIdSigner(b"k" * 32)
    assert signer.issue("m", "t", issued_at=NOW) != signer.issue("m", "t", issued_at=NOW)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),
        lambda s: s.replace("e1.", "e2."),
        lambda s: s + ".x",
        lambda s: s.split(".")[0] + "." + s.split(".")[1],
        lambda s: "",
        lambda s: "e1.!!!.???",
        lambda s: "e1.aGVsbG8.é",
        lambda s: s * 20,
        lambda s: "0" * 32,
    ],
)
def test_altered_or_malformed_ids_are_unknown(mangle) -> None:  # type: ignore[no-untyped-def]
    signer = EventIdSigner(b"k" * 32)
    with pytest.raises(EventNotFoundError):
        signer.verify(mangle(signer.issue("m", "t", issued_at=NOW)))


@pytest.mark.parametrize("payload", ["", "aGVsbG8=", "aGVs bG8", "aGVsbG8é", "aGVs+G8/"])
def test_a_signed_payload_outside_base64url_is_unknown(payload: str) -> None:
    """Even correctly tagged (only a holder of the secret could), a payload that is not
    unpadded base64url is refused rather than decoded leniently."""
    signer = EventIdSigner(b"k" * 32)
    tag = base64.urlsafe_b64encode(signer._tag(payload.encode())).rstrip(b"=").decode()
    with pytest.raises(EventNotFoundError):
        signer.verify(f"e1.{payload}.{tag}")


def test_a_changed_claim_with_the_old_tag_is_refused() -> None:
    signer = EventIdSigner(b"k" * 32)
    good = signer.issue("alice", "t", issued_at=NOW)
    forged = EventIdSigner(b"z" * 32).issue("bob", "t", issued_at=NOW)
    spliced = ".".join([*forged.split(".")[:2], good.split(".")[2]])
    with pytest.raises(EventNotFoundError):
        signer.verify(spliced)


def test_another_secret_cannot_verify() -> None:
    with pytest.raises(EventNotFoundError):
        EventIdSigner(b"a" * 32).verify(EventIdSigner(b"b" * 32).issue("m", "t", issued_at=NOW))


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret must be >= 16 bytes"):
        EventIdSigner(b"short")


def test_secret_file_is_created_once_private_and_reused(tmp_path: Path) -> None:
    first = load_or_create_secret(None, tmp_path)
    path = tmp_path / "secrets" / "event-id.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(None, tmp_path) == first
    assert len(first) == 32


def test_configured_secret_wins_and_must_be_long(tmp_path: Path) -> None:
    assert load_or_create_secret("x" * 20, tmp_path) == b"x" * 20
    assert not (tmp_path / "secrets").exists()
    with pytest.raises(ValueError, match="ARTWORK_EVENT_SECRET"):
        load_or_create_secret("short", tmp_path)


def test_unwritable_home_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StorageError, match="ARTWORK_EVENT_SECRET"):
        load_or_create_secret(None, blocker)


def _reference_id(secret: bytes, claims: dict[str, object]) -> str:
    """The documented format, written the plain way: JSON, base64url, HMAC-SHA256[:16]."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    payload = b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    tag = hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:16]
    return f"e1.{payload}.{b64(tag)}"


@pytest.mark.parametrize("secret", [b"k" * 32, bytes(range(200))])
@pytest.mark.parametrize(
    ("member", "title", "principal"),
    [("member-1", "title-1", ""), ("m\u00e9", 't"\\\u2028\U0001f600', "key-9"), ("", "", "")],
)
def test_ids_are_the_documented_format(
    secret: bytes, member: str, title: str, principal: str
) -> None:
    signer = EventIdSigner(secret)
    key = "0123456789abcdef" * 2
    issued = signer.issue(member, title, issued_at=NOW, principal=principal, key=key)
    claims = {"k": key, "m": member, "t": title, "s": int(NOW.timestamp()), "p": principal}
    assert issued == _reference_id(secret, claims)
    fresh = signer.verify(signer.issue(member, title, issued_at=NOW, principal=principal))
    assert (fresh.user_id, fresh.title_id, fresh.principal) == (member, title, principal)


def test_many_ids_have_distinct_keys() -> None:
    signer = EventIdSigner(b"k" * 32)
    keys = {signer.verify(signer.issue("m", "t", issued_at=NOW)).key for _ in range(1000)}
    assert len(keys) == 1000 and all(len(k) == 32 for k in keys)


def test_a_forked_child_issues_keys_its_parent_never_will() -> None:
    signer = EventIdSigner(b"k" * 32)
    parent_key = signer.verify(signer.issue("m", "t", issued_at=NOW)).key
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports its first key and leaves at once
        os.write(write, signer.verify(signer.issue("m", "t", issued_at=NOW)).key.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    forked = os.read(read, 64).decode()
    os.close(read)
    # Keys are a per-process prefix and a counter: the child drew a prefix of its own.
    assert len(forked) == 32 and forked[:16] != parent_key[:16]
    assert signer.verify(signer.issue("m", "t", issued_at=NOW)).key[:16] == parent_key[:16]


def test_a_page_of_ids_carries_the_same_claims_as_ids_issued_one_by_one() -> None:
    signer = EventIdSigner(b"k" * 32)
    titles = ["t1", "title-é", 't"quoted"', "t1"]
    page = signer.issue_many("member-1", titles, issued_at=NOW, principal="key-9")
    claims = [signer.verify(event_id) for event_id in page]
    assert [c.title_id for c in claims] == titles
    assert {(c.user_id, c.principal, c.issued_at) for c in claims} == {("member-1", "key-9", NOW)}
    assert len({c.key for c in claims}) == len(titles)
    single = signer.issue("member-1", "t1", issued_at=NOW, principal="key-9")
    # The same payload layout: only the key differs.
    payload = json.loads(base64.urlsafe_b64decode(page[0].split(".")[1] + "=="))
    assert list(payload) == list(json.loads(base64.urlsafe_b64decode(single.split(".")[1] + "==")))
    assert signer.issue_many("member-1", [], issued_at=NOW) == []
