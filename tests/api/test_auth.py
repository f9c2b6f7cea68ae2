"""API keys on the wire: 401 without a key, 403 without the scope, the cookie, revocation,
rate limits, and the admin endpoints for keys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from artwork.api.auth import COOKIE_NAME, Principal, RateLimiter, reward_speaker
from artwork.app import create_app
from artwork.catalog.keys import KeyStore
from artwork.config import Settings
from artwork.testing.keys import bearer, make_key
from artwork.wiring import Services


@pytest.fixture
def anonymous(seeded: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=seeded)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/homepage?user_id=u1"),
        ("GET", "/v1/titles/space/artwork?user_id=u1"),
        ("GET", "/v1/titles"),
        ("GET", "/v1/titles/space"),
        ("POST", "/v1/rewards"),
        ("GET", "/v1/keys"),
        ("GET", "/?user_id=u1"),
    ],
)
def test_no_key_is_401_with_a_json_body(anonymous: TestClient, method: str, path: str) -> None:
    response = anonymous.request(method, path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_open_endpoints_need_no_key(anonymous: TestClient) -> None:
    assert anonymous.get("/healthz").status_code == 200


def test_a_wrong_or_malformed_key_is_401(anonymous: TestClient, seeded: Services) -> None:
    real = make_key(seeded.engine, "client")
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for key in (forged, "ak_000000000000_" + "x" * 43, "nonsense", ""):
        response = anonymous.get("/v1/homepage?user_id=u1", headers=bearer(key))
        assert response.status_code == 401, key


def test_a_key_without_the_scope_is_403(anonymous: TestClient, seeded: Services) -> None:
    client_key = bearer(make_key(seeded.engine, "client"))
    editor_key = bearer(make_key(seeded.engine, "editor"))
    assert anonymous.get("/v1/homepage?user_id=u1", headers=client_key).status_code == 200
    for path, headers in [
        ("/v1/titles", client_key),
        ("/v1/keys", client_key),
        ("/v1/homepage?user_id=u1", editor_key),
        ("/v1/keys", editor_key),
    ]:
        response = anonymous.get(path, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"


def test_the_key_may_come_in_the_cookie(anonymous: TestClient, seeded: Services) -> None:
    anonymous.cookies.set(COOKIE_NAME, make_key(seeded.engine, "client"))
    assert anonymous.get("/v1/homepage?user_id=u1").status_code == 200
    assert anonymous.get("/?user_id=u1").status_code == 200


def test_anonymous_upload_cannot_overwrite_a_title(anonymous: TestClient, seeded: Services) -> None:
    before = [v.variant_id for v in seeded.catalog.variants("space")]
    response = anonymous.post(
        "/v1/titles",
        data={"title_id": "space", "name": "DEFACED", "replace": "true"},
        files={"video": ("x.mp4", b"DEFACED " * 64, "video/mp4")},
    )
    assert response.status_code == 401
    assert [v.variant_id for v in seeded.catalog.variants("space")] == before
    assert seeded.catalog.get_title("space").name != "DEFACED"


def test_admins_create_list_and_revoke_keys(anonymous: TestClient, seeded: Services) -> None:
    admin = bearer(make_key(seeded.engine, "admin"))
    created = anonymous.post(
        "/v1/keys", json={"scopes": ["client"], "name": "tv app"}, headers=admin
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["scopes"] == ["client"] and body["key"].startswith("ak_")
    new = bearer(body["key"])
    assert anonymous.get("/v1/homepage?user_id=u1", headers=new).status_code == 200
    listed = anonymous.get("/v1/keys", headers=admin).json()
    assert body["id"] in {k["id"] for k in listed}
    assert all("key" not in k for k in listed)
    revoked = anonymous.delete(f"/v1/keys/{body['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert anonymous.get("/v1/homepage?user_id=u1", headers=new).status_code == 401
    assert anonymous.delete("/v1/keys/000000000000", headers=admin).status_code == 404


def test_keys_are_stored_hashed(seeded: Services) -> None:
    key = make_key(seeded.engine, "client")
    with seeded.engine.connect() as conn:
        dumped = "\n".join(conn.connection.iterdump())  # type: ignore[attr-defined]
    assert key.split("_", 2)[2] not in dumped


def test_rate_limit_is_429_with_retry_after(tmp_path: object, seeded: Services) -> None:
    settings = seeded.settings.model_copy(update={"rate_limit_client": 1.0})
    app = create_app(settings=settings, services=seeded)
    key = bearer(make_key(seeded.engine, "client"))
    with TestClient(app, headers=key) as client:
        statuses = [client.get("/v1/homepage?user_id=u1").status_code for _ in range(4)]
        assert statuses[:2] == [200, 200] and statuses[-1] == 429
        limited = client.get("/v1/homepage?user_id=u1")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1


def test_token_bucket_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter({"client": 2.0}, burst_s=1.0, clock=lambda: now[0])
    limiter.take("k", "client")
    limiter.take("k", "client")
    with pytest.raises(Exception, match="too many"):
        limiter.take("k", "client")
    limiter.take("other", "client")  # buckets are per key
    now[0] += 0.5
    limiter.take("k", "client")
    RateLimiter({"client": 0.0}).take("k", "client")  # 0: no limit


def test_key_store_refuses_unknown_scopes(settings: Settings, services: Services) -> None:
    with pytest.raises(ValueError, match="unknown scope 'root'"):
        KeyStore(services.engine).create(["root"])
    with pytest.raises(ValueError, match="at least one scope"):
        KeyStore(services.engine).create([])


def test_a_reward_speaks_for_its_own_key_unless_admin() -> None:
    assert reward_speaker(Principal("aaaaaaaaaaaa", "tv", frozenset({"client"}))) == "aaaaaaaaaaaa"
    assert reward_speaker(Principal("cccccccccccc", "ops", frozenset({"admin", "client"}))) is None


def test_forged_event_ids_are_404(client: TestClient) -> None:
    for event_id in ("e1.eyJrIjoiMSJ9.AAAAAAAAAAAAAAAAAAAAAA", "nope", "x" * 1024):
        response = client.post("/v1/rewards", json={"event_id": event_id, "value": 1.0})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "event_not_found"


def test_cookie_changes_must_come_from_our_own_pages(
    anonymous: TestClient, seeded: Services
) -> None:
    anonymous.cookies.set(COOKIE_NAME, make_key(seeded.engine, "client"))
    body = {"event_id": "nope", "value": 1.0}
    cross_site = anonymous.post("/v1/rewards", json=body, headers={"Origin": "https://evil.test"})
    assert cross_site.status_code == 403
    assert anonymous.post("/v1/rewards", json=body).status_code == 403  # no Origin at all
    same = anonymous.post("/v1/rewards", json=body, headers={"Origin": "http://testserver"})
    assert same.status_code == 404  # authenticated; the event is unknown
