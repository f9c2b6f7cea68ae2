"""EmbedderLoader: builds once in the background, hands over the embedder or the error, and
tries again after a failure."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from artwork.config import Settings
from artwork.domain import Image
from artwork.errors import WeightsNotFoundError
from artwork.scoring.base import Embedder
from artwork.scoring.loading import EmbedderLoader


class _Fixed(Embedder):
    @property
    def name(self) -> str:
        return "fixed"

    @property
    def dim(self) -> int:
        return 2

    def embed(self, images: Sequence[Image]) -> NDArray[np.float32]:
        return np.tile(np.array([1.0, 0.0], np.float32), (len(images), 1))


def test_builds_once_in_another_thread(tmp_path: Path) -> None:
    threads: list[str] = []
    release = threading.Event()

    def factory(_settings: Settings) -> Embedder:
        threads.append(threading.current_thread().name)
        release.wait(timeout=10)
        return _Fixed()

    loader = EmbedderLoader(factory, Settings(home=tmp_path))
    loader.start()
    loader.start()
    assert not loader.ready
    release.set()
    first = loader.get()
    assert loader.get() is first and loader.ready
    assert threads == ["embedder-loader"]
    assert loader.load_seconds is not None and loader.load_seconds >= 0


def test_a_failure_is_raised_by_get_and_retried(tmp_path: Path) -> None:
    calls: list[int] = []

    def factory(_settings: Settings) -> Embedder:
        calls.append(1)
        if len(calls) == 1:
            raise WeightsNotFoundError("no weights here")
        return _Fixed()

    loader = EmbedderLoader(factory, Settings(home=tmp_path))
    with pytest.raises(WeightsNotFoundError, match="no weights here"):
        loader.get()
    assert not loader.ready
    assert loader.get().name == "fixed" and len(calls) == 2
