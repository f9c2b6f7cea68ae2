"""Authenticated event ids: what a reward needs to find its decision, signed by the server.

An event id is handed to a client with every decision and comes back with its reward. It
carries the claims the reward join needs (a unique key, the member, the title, when it was
issued and who asked for it) and an HMAC-SHA256 tag over them, so

- a forged or altered id is refused from the id alone, without a database read;
- a reward can be accepted and joined even before the decision's row has been written
  (decisions are logged off the request path);
- a reward can be bound to the caller that asked for the decision (``principal``).

Format (URL-safe, no padding, ~110 characters)::

    e1.<base64url(payload)>.<base64url(tag[:16])>
    payload = JSON {"k": key, "m": member, "t": title, "s": issued unix seconds, "p": principal}

A homepage issues about 200 ids, so :meth:`EventIdSigner.issue` writes that JSON from cached
pieces (each member's, title's and principal's JSON text is made once), keys the HMAC's inner
and outer SHA-256 states once and copies them per id, and draws a random 64-bit prefix per
process (again after a fork) followed by a 64-bit counter as the unique key: 128 bits without a
call to the system's random source per id.

The secret is ``ARTWORK_EVENT_SECRET`` where set (replicas must share one), else a random
32-byte key created once under ``ARTWORK_HOME/secrets/event-id.key`` (mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import os
import re
import secrets
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from artwork.errors import EventNotFoundError, StorageError

PREFIX = "e1"
TAG_BYTES = 16
SECRET_BYTES = 32
MAX_EVENT_ID_CHARS = 1024
_ID_HEAD = f"{PREFIX}.".encode()
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_JSON_CACHE_SIZE = 200_000


@dataclass(frozen=True, slots=True)
class EventClaims:
    """What a verified event id says."""

    key: str
    user_id: str
    title_id: str
    issued_at: datetime
    principal: str = ""


class EventIdSigner:
    """Issues and verifies event ids under one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError(f"the event-id secret must be >= 16 bytes, got {len(secret)}")
        # HMAC (RFC 2104) with SHA-256: H((K ^ opad) || H((K ^ ipad) || m)), 64-byte blocks.
        block = (hashlib.sha256(secret).digest() if len(secret) > 64 else secret).ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self._json: dict[str, str] = {}
        self._new_prefix()

    def issue(
        self,
        user_id: str,
        title_id: str,
        *,
        issued_at: datetime,
        principal: str = "",
        key: str | None = None,
    ) -> str:
        """A new signed event id for a decision shown to ``user_id`` for ``title_id``.

        Args:
            user_id: The member the decision was made for.
            title_id: The title whose artwork was chosen.
            issued_at: When the decision was made (timezone-aware).
            principal: Who asked for the decision (an API key id); empty when nobody did.
            key: The unique part; a fresh 128-bit hex string when omitted.
        """
        member, rest = self._member_part(user_id, issued_at, principal)
        first = f'{{"k":{self._text(key) if key else self._next_key()},{member}'
        return self._signed(f"{first}{self._text(title_id)}{rest}")

    def issue_many(
        self, user_id: str, title_ids: Sequence[str], *, issued_at: datetime, principal: str = ""
    ) -> list[str]:
        """``issue`` for several titles shown to one member at once (a homepage), in order."""
        member, rest = self._member_part(user_id, issued_at, principal)
        text, next_key, signed = self._text, self._next_key, self._signed
        return [
            signed(f'{{"k":{next_key()},{member}{text(title_id)}{rest}') for title_id in title_ids
        ]

    def _member_part(self, user_id: str, issued_at: datetime, principal: str) -> tuple[str, str]:
        """The payload's text between the key and the title, and after the title."""
        return (
            f'"m":{self._text(user_id)},"t":',
            f',"s":{int(issued_at.timestamp())},"p":{self._text(principal)}}}',
        )

    def _signed(self, payload: str) -> str:
        # Bytes until the end: the tag is computed over the encoded payload's ASCII.
        encoded = _b64_bytes(payload.encode())
        return (_ID_HEAD + encoded + b"." + _b64_bytes(self._tag(encoded))).decode("ascii")

    def verify(self, event_id: str) -> EventClaims:
        """The claims of a genuine event id.

        Raises:
            EventNotFoundError: ``event_id`` is malformed, altered or signed under another secret.
        """
        if not isinstance(event_id, str) or len(event_id) > MAX_EVENT_ID_CHARS:
            raise _unknown(event_id)
        parts = event_id.split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise _unknown(event_id)
        _, payload, tag = parts
        # Compare the encoded tags: base64's spare low bits would let two spellings of one
        # tag both pass a comparison of decoded bytes.
        if not hmac.compare_digest(tag.encode(), _b64_bytes(self._tag(payload.encode()))):
            raise _unknown(event_id)
        try:
            claims = json.loads(_unb64(payload))
            return EventClaims(
                key=str(claims["k"]),
                user_id=str(claims["m"]),
                title_id=str(claims["t"]),
                issued_at=datetime.fromtimestamp(int(claims["s"]), tz=UTC),
                principal=str(claims.get("p", "")),
            )
        except (binascii.Error, ValueError, KeyError, TypeError, OverflowError):
            # Signed by us but unreadable: only possible if the format changed under a
            # shared secret. Treat as unknown rather than failing the request.
            raise _unknown(event_id) from None

    def _tag(self, payload: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(payload)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:TAG_BYTES]

    def _new_prefix(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count()
        _SIGNERS.add(self)  # a forked child must not repeat its parent's keys

    def _next_key(self) -> str:
        """A fresh key as JSON text (hex needs no escaping)."""
        return f'"{self._prefix}{next(self._counter):016x}"'

    def _text(self, value: str) -> str:
        """``value`` as the JSON text ``json.dumps(..., ensure_ascii=False)`` writes."""
        found = self._json.get(value)
        if found is None:
            found = json.dumps(value, ensure_ascii=False)
            if len(self._json) >= _JSON_CACHE_SIZE:
                self._json.clear()
            self._json[value] = found
        return found


_SIGNERS: weakref.WeakSet[EventIdSigner] = weakref.WeakSet()
"""Every live signer, given a new prefix in a forked child (a check of the process id per key
cost a system call each)."""


def _renew_prefixes() -> None:
    for signer in list(_SIGNERS):
        signer._new_prefix()


os.register_at_fork(after_in_child=_renew_prefixes)


def load_or_create_secret(configured: str | None, home: Path) -> bytes:
    """The event-id secret: ``configured`` when given, else the key file under ``home``.

    The file is created atomically (mode 0600) on first use, so every process on one machine
    sharing ``home`` signs with the same key. Replicas on several machines must share
    ``ARTWORK_EVENT_SECRET`` instead.

    Raises:
        ValueError: ``configured`` is shorter than 16 characters.
        StorageError: the key file cannot be read or created.
    """
    if configured:
        if len(configured) < 16:
            raise ValueError(
                f"ARTWORK_EVENT_SECRET must be >= 16 characters, got {len(configured)}"
            )
        return configured.encode()
    path = home / "secrets" / "event-id.key"
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path.parent, 0o700)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(SECRET_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                # link, not rename: if another process won the race, keep its key.
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        secret = path.read_bytes()
    except OSError as exc:
        raise StorageError(
            f"cannot read or create the event-id key {path}: {exc.strerror or exc}; "
            "make ARTWORK_HOME writable or set ARTWORK_EVENT_SECRET"
        ) from exc
    if len(secret) < 16:
        raise StorageError(
            f"the event-id key {path} is {len(secret)} bytes (expected {SECRET_BYTES}); "
            "delete it to have a new one made (outstanding event ids become invalid)"
        )
    return secret


def _b64_bytes(data: bytes) -> bytes:
    """URL-safe base64 without padding (``base64.urlsafe_b64encode``'s steps, minus its
    checks: a homepage encodes two of these per title)."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE).rstrip(b"=")


def _unb64(text: str) -> bytes:
    # One regular expression: checking character by character was most of a reward's id
    # verification (and str.isalnum admits letters outside base64's alphabet).
    if not _BASE64URL.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _unknown(event_id: object) -> EventNotFoundError:
    shown = event_id[:80] if isinstance(event_id, str) else type(event_id).__name__
    return EventNotFoundError(
        f"no decision was made under event id {shown!r}: post the event_id exactly as the "
        "homepage or artwork response gave it"
    )
