"""``artwork models prepare``: the ONNX export ahead of the first ingest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from artwork.config import get_settings
from artwork.errors import ModelError
from artwork.scoring import mobilenet_onnx
from artwork.scoring.base import Embedder
from artwork.scoring.mobilenet import WEIGHTS_SHA256
from artwork.scoring.mobilenet_onnx import onnx_path_for, record_path_for


@pytest.fixture
def empty_cache(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model cache of its own, empty (the session's stays warm for the other tests)."""
    folder = tmp_path / "models"
    monkeypatch.setenv("ARTWORK_MODEL_CACHE_DIR", str(folder))
    get_settings.cache_clear()
    return folder / "onnx"


@pytest.fixture
def exports(embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records calls of the export, which copies the session's export instead of running
    torch again."""
    source: Path = embedder.onnx_path  # type: ignore[attr-defined]
    good = {p.name: p.read_bytes() for p in (source, record_path_for(source))}
    calls: list[Path] = []

    def fake_export(weights_path: Path, source_sha256: str, folder: Path) -> Path:
        calls.append(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in good.items():
            (folder / name).write_bytes(content)
        return onnx_path_for(source_sha256, folder)

    monkeypatch.setattr(mobilenet_onnx, "export_onnx", fake_export)
    return calls


def test_prepare_exports_once_then_verifies(
    run_cli: Callable[..., Any], empty_cache: Path, exports: list[Path]
) -> None:
    first = run_cli("models", "prepare", "--json")
    assert first.exit_code == 0, first.stderr
    done = json.loads(first.stdout)
    assert done["embedder"] == "mobilenet_v2" and done["runtime"] == "onnx"
    assert done["exported"] is True
    assert Path(done["prepared"]) == onnx_path_for(WEIGHTS_SHA256, empty_cache)
    assert Path(done["prepared"]).is_file()
    again = run_cli("models", "prepare")
    assert again.exit_code == 0, again.stderr
    assert "already prepared" in again.stdout and str(empty_cache) in again.stdout
    assert exports == [empty_cache]


def test_prepare_exports_again_over_a_damaged_file(
    run_cli: Callable[..., Any], empty_cache: Path, exports: list[Path]
) -> None:
    assert run_cli("models", "prepare").exit_code == 0
    onnx_path_for(WEIGHTS_SHA256, empty_cache).write_bytes(b"not a model")
    result = run_cli("models", "prepare", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["exported"] is True
    assert exports == [empty_cache, empty_cache]


def test_prepare_has_nothing_to_do_for_the_torch_runtime(
    run_cli: Callable[..., Any], empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTWORK_EMBEDDER_RUNTIME", "torch")
    get_settings.cache_clear()
    result = run_cli("models", "prepare")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("nothing to prepare:")
    assert not empty_cache.exists()


def test_a_failed_export_exits_1_with_the_reason(
    run_cli: Callable[..., Any], empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_export(weights_path: Path, source_sha256: str, folder: Path) -> Path:
        raise ModelError("exporting MobileNetV2 to ONNX needs torch (no module named torch)")

    monkeypatch.setattr(mobilenet_onnx, "export_onnx", failing_export)
    result = run_cli("models", "prepare")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "needs torch" in result.stderr


def test_models_needs_an_action(run_cli: Callable[..., Any]) -> None:
    assert run_cli("models").exit_code == 2
