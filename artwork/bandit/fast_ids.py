"""Event ids issued at page speed: the format of :mod:`artwork.bandit.event_ids`, faster.

A homepage issues about 200 event ids; :meth:`EventIdSigner.issue` builds each from scratch
(a dict, ``json.dumps``, an HMAC object), which cost as much as choosing the artwork. This
signer writes the same bytes (tested against it) from pieces: each member's, title's and
principal's JSON text is made once, and the tag comes from the one-shot ``hmac.digest``.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from datetime import datetime

from artwork.bandit.event_ids import PREFIX, TAG_BYTES, EventIdSigner

_JSON_CACHE_SIZE = 200_000


class FastEventIdSigner(EventIdSigner):
    """An :class:`EventIdSigner` whose ``issue`` is several times faster (same ids)."""

    def __init__(self, secret: bytes) -> None:
        super().__init__(secret)
        self._key = secret
        self._json: dict[str, str] = {}

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
            f'{{"k":{self._text(key or secrets.token_hex(16))},"m":{self._text(user_id)},'
            f'"t":{self._text(title_id)},"s":{int(issued_at.timestamp())},'
            f'"p":{self._text(principal)}}}'
        )
        encoded = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=")
        digest = hmac.digest(self._key, encoded, "sha256")
        tag = base64.urlsafe_b64encode(digest[:TAG_BYTES]).rstrip(b"=")
        return f"{PREFIX}.{encoded.decode('ascii')}.{tag.decode('ascii')}"

    def _text(self, value: str) -> str:
        """``value`` as the JSON text ``json.dumps(..., ensure_ascii=False)`` writes."""
        found = self._json.get(value)
        if found is None:
            found = json.dumps(value, ensure_ascii=False)
            if len(self._json) >= _JSON_CACHE_SIZE:
                self._json.clear()
            self._json[value] = found
        return found
