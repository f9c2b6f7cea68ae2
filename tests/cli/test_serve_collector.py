"""The garbage collector of a serving process: young objects collected less often, what
exists at start left out of collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from artwork.cli.serve import tune_collector, worker_app
from artwork.config import get_settings


@pytest.fixture
def collector() -> Iterator[None]:
    """The interpreter's collector settings, put back afterwards."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector")
def test_a_serving_process_collects_young_objects_less_often(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.set_threshold(700, 10, 10)
    monkeypatch.setenv("ARTWORK_GC_THRESHOLD", "25000")
    get_settings.cache_clear()

    app = worker_app()

    assert isinstance(app, FastAPI)
    assert gc.get_threshold() == (25000, 10, 10)
    assert gc.get_freeze_count() > 0  # what exists at start is left out of collections


@pytest.mark.usefixtures("collector")
def test_a_threshold_of_zero_keeps_pythons() -> None:
    gc.set_threshold(700, 10, 10)

    tune_collector(0)

    assert gc.get_threshold() == (700, 10, 10)
