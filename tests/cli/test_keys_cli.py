"""``artwork keys create|list|revoke``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from artwork.catalog.keys import KeyStore
from artwork.config import Settings
from artwork.errors import AuthenticationError
from artwork.wiring import Services


def test_create_list_revoke(run_cli: Callable[..., Any], home: Path) -> None:
    made = run_cli(
        "keys", "create", "--scope", "editor", "--scope", "client", "--name", "ed", "--json"
    )
    assert made.exit_code == 0, made.stderr
    body = json.loads(made.stdout)
    assert set(body) == {"key", "id", "scopes"} and body["scopes"] == ["client", "editor"]

    services = Services.from_settings(Settings(home=home))
    try:
        store = KeyStore(services.engine)
        assert store.verify(body["key"]).key_id == body["id"]
        listed = run_cli("keys", "list")
        assert body["id"] in listed.stdout and body["key"] not in listed.stdout
        assert run_cli("keys", "revoke", body["id"]).exit_code == 0
        with pytest.raises(AuthenticationError):
            store.verify(body["key"])
        assert "revoked" in run_cli("keys", "list").stdout
    finally:
        services.close()


def test_bad_scope_and_unknown_id(run_cli: Callable[..., Any]) -> None:
    assert run_cli("keys", "create", "--scope", "root").exit_code == 2
    missing = run_cli("keys", "revoke", "000000000000")
    assert missing.exit_code == 1 and "no API key" in missing.stderr


def test_demo_prints_a_client_and_an_editor_key(
    run_cli: Callable[..., Any], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import artwork.demo.catalog

    monkeypatch.setattr(artwork.demo.catalog, "build_sample_catalog", lambda *_a, **_k: None)
    result = run_cli("demo", "--no-serve")
    assert result.exit_code == 0, result.stderr
    keys = dict(line.split(" key: ") for line in result.stdout.splitlines() if " key: " in line)
    services = Services.from_settings(Settings(home=home))
    try:
        store = KeyStore(services.engine)
        assert store.verify(keys["client"]).scopes == frozenset({"client"})
        assert store.verify(keys["editor"]).scopes == frozenset({"editor"})
    finally:
        services.close()
