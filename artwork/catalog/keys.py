"""API keys: created, listed, looked up and revoked; only a hash of each secret is stored.

A key reads ``ak_<key_id>_<secret>``: the id is public (it names the key in listings, logs and
event ids), the secret is 32 random bytes shown once at creation. The store keeps the
SHA-256 of the secret: the secret is random, so a slow password hash adds nothing, and a
lookup is one primary-key read plus a constant-time comparison.

Scopes: :mod:`artwork.catalog.scopes`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import SQLAlchemyError

from artwork.catalog.counters import KEYS, bump_counter, read_counters
from artwork.catalog.schema import api_keys
from artwork.catalog.scopes import SCOPES, check_scopes
from artwork.errors import AuthenticationError, KeyNotFoundError, StorageError

__all__ = ["SCOPES", "ApiKey", "CreatedKey", "KeyStore", "check_scopes"]

KEY_PREFIX = "ak"
_KEY_PATTERN = re.compile(r"^ak_([0-9a-f]{12})_([A-Za-z0-9_-]{20,64})$")
MAX_NAME_CHARS = 128


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key, without its secret."""

    key_id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key: ``key`` is the only time the secret is seen."""

    key: str
    record: ApiKey


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


VERIFIED_CACHED = 10_000
"""Verified keys remembered; the cache starts over when it is full."""


class KeyStore:
    """API keys in the ``api_keys`` table. Safe to share between threads.

    Args:
        engine: the database.
        poll_s: with a positive value, keys that verified are remembered (by their id and
            secret hash) and verify again without a database read; the ``keys`` change
            counter, bumped with every key created or revoked in any process, is looked at
            at most this often, and any change forgets them all. A key revoked elsewhere is
            thus refused within ``poll_s``, one revoked through this store at once. 0 (the
            default) reads the database for every verification.
    """

    def __init__(self, engine: Engine, *, poll_s: float = 0.0) -> None:
        if poll_s < 0:
            raise ValueError(f"poll_s must be >= 0, got {poll_s}")
        self.engine = engine
        self._poll_s = poll_s
        self._verified: dict[tuple[str, str], ApiKey] = {}
        self._lock = threading.Lock()
        self._checked_at = -float("inf")
        self._counter: int | None = None

    def create(self, scopes: Iterable[str], name: str = "") -> CreatedKey:
        """Make a key holding ``scopes``.

        Raises:
            ValueError: unknown or no scopes, or a name over 128 characters.
            StorageError: the database failed.
        """
        checked = check_scopes(scopes)
        if len(name) > MAX_NAME_CHARS:
            raise ValueError(f"name must be <= {MAX_NAME_CHARS} characters, got {len(name)}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        record = ApiKey(key_id, name, checked, datetime.now(UTC))
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(api_keys).values(
                        key_id=key_id,
                        name=name,
                        scopes=sorted(checked),
                        secret_hash=_hash(secret),
                        created_at=record.created_at,
                    )
                )
                bump_counter(conn, KEYS)
        except SQLAlchemyError as exc:
            raise StorageError("cannot store the new API key") from exc
        return CreatedKey(f"{KEY_PREFIX}_{key_id}_{secret}", record)

    def list(self, *, include_revoked: bool = True) -> list[ApiKey]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def get(self, key_id: str) -> ApiKey:
        """Raises: KeyNotFoundError."""
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).mappings()
            found = row.first()
        if found is None:
            raise KeyNotFoundError(f"no API key {key_id!r}; list keys with `artwork keys list`")
        return _record(found)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key (it stays listed); revoking twice keeps the first time.

        Raises:
            KeyNotFoundError: no such key.
        """
        with self.engine.begin() as conn:
            conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
            bump_counter(conn, KEYS)
        self._forget()
        return self.get(key_id)

    def verify(self, raw: str) -> ApiKey:
        """The active key whose full text is ``raw``.

        Raises:
            AuthenticationError: malformed, unknown, wrong secret or revoked (one message for
                all, so a caller learns nothing about which).
        """
        key_id, digest = _parsed(raw)
        if self._poll_s > 0:
            self._check_counter()
            known = self._verified.get((key_id, digest))
            if known is not None:
                return known
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).mappings()
            found = row.first()
        if found is None or not hmac.compare_digest(found["secret_hash"], digest):
            raise _refused()
        record = _record(found)
        if not record.active:
            raise _refused()
        if self._poll_s > 0:
            with self._lock:
                if len(self._verified) >= VERIFIED_CACHED:
                    self._verified.clear()
                self._verified[key_id, digest] = record
        return record

    def remembered(self, raw: str) -> ApiKey | None:
        """The key whose full text is ``raw`` if :meth:`verify` would answer it from memory
        without reading the database (remembered, and no look at the counter due), else
        ``None``: then call :meth:`verify`. Never raises."""
        if self._poll_s <= 0 or time.monotonic() - self._checked_at >= self._poll_s:
            return None
        try:
            return self._verified.get(_parsed(raw))
        except AuthenticationError:
            return None

    def _check_counter(self) -> None:
        """Forget the verified keys if any key was created or revoked since the last look
        (at most one look per ``poll_s``)."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < self._poll_s:
                return
            # One look per poll: requests arriving while it is under way answer from memory
            # (every request that found a look due used to read the counter itself).
            previous, self._checked_at = self._checked_at, now
        try:
            counter = read_counters(self.engine).get(KEYS, 0)
        except BaseException:
            with self._lock:
                if self._checked_at == now:
                    self._checked_at = previous  # the next request looks again
            raise
        with self._lock:
            if counter != self._counter:
                self._verified.clear()
                self._counter = counter

    def _forget(self) -> None:
        with self._lock:
            self._verified.clear()
            self._checked_at = -float("inf")


def _parsed(raw: str) -> tuple[str, str]:
    """A key's id and the hash of its secret.

    Raises:
        AuthenticationError: ``raw`` is not a key.
    """
    match = _KEY_PATTERN.match(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        raise _refused()
    key_id, secret = match.groups()
    return key_id, _hash(secret)


def _refused() -> AuthenticationError:
    return AuthenticationError(
        "the API key is missing, unknown or revoked; send 'Authorization: Bearer KEY' with a "
        "key from `artwork keys create`"
    )


def _record(mapping: RowMapping) -> ApiKey:
    return ApiKey(
        key_id=mapping["key_id"],
        name=mapping["name"],
        scopes=frozenset(mapping["scopes"] or ()),
        created_at=mapping["created_at"],
        revoked_at=mapping["revoked_at"],
    )
