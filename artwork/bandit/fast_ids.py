"""Event ids issued at page speed: the format of :mod:`artwork.bandit.event_ids`, faster.

A homepage issues about 200 event ids; :meth:`EventIdSigner.issue` builds each from scratch
(a dict, ``json.dumps``, an HMAC object), which cost as much as choosing the artwork. This
signer writes the same bytes (tested against it) from pieces: each member's, title's and
principal's JSON text is made once, the HMAC's inner and outer SHA-256 states are keyed once
and copied per id (``hmac.digest`` looks the digest up in OpenSSL on every call), and the
unique key is a random 64-bit prefix drawn per process (again after a fork) followed by a
64-bit counter: 128 bits, unique without a call to the system's random source per id.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import secrets
from datetime import datetime

from artwork.bandit.event_ids import PREFIX, TAG_BYTES, EventIdSigner

_JSON_CACHE_SIZE = 200_000


class FastEventIdSigner(EventIdSigner):
    """An :class:`EventIdSigner` whose ``issue`` is several times faster (same ids)."""

    def __init__(self, secret: bytes) -> None:
        super().__init__(secret)
        # HMAC (RFC 2104) with SHA-256: H((K ^ opad) || H((K ^ ipad) || m)), 64-byte blocks.
        block = (hashlib.sha256(secret).digest() if len(secret) > 64 else secret).ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self._json: dict[str, str] = {}
        self._new_prefix()

    def _new_prefix(self) -> None:
        self._pid = os.getpid()
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count()

    def issue(
        self,
        user_id: str,
        title_id: str,
        *,
        issued_at: datetime,
        principal: str = "",
        key: str | None = None,
    ) -> str:
        payload = (
            f'{{"k":{self._text(key) if key else self._next_key()},"m":{self._text(user_id)},'
            f'"t":{self._text(title_id)},"s":{int(issued_at.timestamp())},'
            f'"p":{self._text(principal)}}}'
        )
        encoded = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=")
        tag = base64.urlsafe_b64encode(self._mac(encoded)).rstrip(b"=")
        return f"{PREFIX}.{encoded.decode('ascii')}.{tag.decode('ascii')}"

    def _tag(self, payload: str) -> bytes:
        # Verifying (rewards) uses the same keyed states.
        return self._mac(payload.encode())

    def _mac(self, data: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:TAG_BYTES]

    def _next_key(self) -> str:
        """A fresh key as JSON text (hex needs no escaping)."""
        if os.getpid() != self._pid:  # a forked child must not repeat its parent's keys
            self._new_prefix()
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
