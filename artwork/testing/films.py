"""Film-like footage with planted ground truth, for the extraction benchmark.

:func:`write_film_like_video` writes a long H.264 film of textured sets, camera moves, hard
cuts, fades and dissolves (optionally under film grain) and returns a :class:`FilmTruth`: every
shot and transition it planted, which :mod:`artwork.bench.extract` scores detected cuts
against. :func:`film_truth` rebuilds that truth from the same arguments without writing (for a
cached film). The short clips of unit tests, with black, blurred and faded segments, are in
:mod:`artwork.testing.synthetic`.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from queue import Full, Queue
from typing import cast

import av
import cv2
import numpy as np

from artwork.domain import Image
from artwork.video.shots import Transition

GRAIN_SOFTNESS = 0.7
"""Gaussian sigma (pixels) softening film grain, so it clumps like real grain."""
DETAIL = 0.35
"""Amplitude of the fine texture of film sets (relative brightness modulation)."""


@dataclass(frozen=True, slots=True)
class FilmTruth:
    """What :func:`write_film_like_video` planted.

    Attributes:
        path: the written file.
        width, height, fps: its format.
        frame_count: frames written.
        shots: ``(start_s, end_s)`` of every shot, in order (a dissolve belongs to both shots).
        cuts_s: times of hard cuts, increasing.
        transitions: the fades and dissolves, in order.
    """

    path: Path
    width: int
    height: int
    fps: int
    frame_count: int
    shots: tuple[tuple[float, float], ...]
    cuts_s: tuple[float, ...]
    transitions: tuple[Transition, ...]

    @property
    def duration_s(self) -> float:
        """Length of the video in seconds."""
        return self.frame_count / self.fps


@dataclass(frozen=True, slots=True)
class _FilmShot:
    """One shot on the film's frame timeline; ``fade_in``/``fade_out`` in frames."""

    start: int
    length: int
    fade_in: int = 0
    fade_out: int = 0

    @property
    def stop(self) -> int:
        return self.start + self.length


def plan_film(
    seconds: float,
    *,
    fps: int = 24,
    seed: int = 0,
    shot_s: tuple[float, float] = (2.0, 8.0),
    fade_share: float = 0.05,
    dissolve_share: float = 0.04,
) -> tuple[list[_FilmShot], int]:
    """Lay out shots of random length, joined mostly by cuts and sometimes by fades/dissolves.

    Returns:
        The shots on the frame timeline and the total number of frames.
    """
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds must be > 0, got {seconds}")
    low, high = shot_s
    if not 0 < low <= high:
        raise ValueError(f"shot_s must be (low, high) with 0 < low <= high, got {shot_s}")
    rng = np.random.default_rng(seed)
    total = max(1, round(seconds * fps))
    shots: list[_FilmShot] = []
    position = 0
    while position < total:
        length = round(rng.uniform(low, high) * fps)
        length = max(1, min(length, total - position))
        if total - position - length < low * fps:  # no sliver of a shot at the end
            length = total - position
        join = rng.random()
        fade_in = 0
        if shots and join < fade_share and length > fps and shots[-1].length > fps:
            # Fade out over 0.5-1 s, black for up to 0.5 s, fade in over 0.5-1 s.
            out_n, gap, in_n = (
                round(rng.uniform(0.5, 1.0) * fps),
                round(rng.uniform(0.0, 0.5) * fps),
                round(rng.uniform(0.5, 1.0) * fps),
            )
            previous = shots[-1]
            shots[-1] = _FilmShot(previous.start, previous.length, previous.fade_in, out_n)
            position += gap
            length = min(length, total - position)
            fade_in = min(in_n, max(0, length))
        elif shots and join < fade_share + dissolve_share and length > fps:
            overlap = min(round(rng.uniform(0.5, 1.5) * fps), shots[-1].length // 2)
            position -= overlap
            length += overlap
            previous = shots[-1]
            shots[-1] = _FilmShot(previous.start, previous.length, previous.fade_in, overlap)
            fade_in = overlap
        if length < 1:
            break
        shots.append(_FilmShot(position, length, fade_in))
        position += length
    return shots, total


def film_truth(
    path: Path,
    *,
    seconds: float,
    width: int = 1920,
    height: int = 1080,
    fps: int = 24,
    seed: int = 0,
) -> FilmTruth:
    """The truth :func:`write_film_like_video` returns for these arguments, without rendering
    (for a file written earlier: the plan depends only on them).

    Args:
        path: the file.
        seconds: its length (> 0).
        width: frame width.
        height: frame height.
        fps: frame rate.
        seed: the seed it was written with.
    """
    shots, total = plan_film(seconds, fps=fps, seed=seed)
    return _film_truth(path, width, height, fps, shots, total)


def _film_truth(
    path: Path, width: int, height: int, fps: int, shots: Sequence[_FilmShot], total: int
) -> FilmTruth:
    cuts: list[float] = []
    transitions: list[Transition] = []
    for a, b in itertools.pairwise(shots):
        if b.start < a.stop:
            transitions.append(Transition("dissolve", b.start / fps, a.stop / fps))
        elif a.fade_out or b.fade_in:
            transitions.append(
                Transition("fade", (a.stop - a.fade_out) / fps, (b.start + b.fade_in) / fps)
            )
        else:
            cuts.append(b.start / fps)
    return FilmTruth(
        path=path,
        width=width,
        height=height,
        fps=fps,
        frame_count=total,
        shots=tuple((s.start / fps, s.stop / fps) for s in shots),
        cuts_s=tuple(cuts),
        transitions=tuple(transitions),
    )


class _FilmScene:
    """The picture of one shot: a textured set larger than the frame, and a camera moving
    over it (pan and slow zoom), with one object crossing it."""

    def __init__(self, shot: _FilmShot, width: int, height: int, rng: np.random.Generator) -> None:
        self.shot = shot
        self.width, self.height = width, height
        margin = 1.25
        self.canvas = _film_picture(round(width * margin), round(height * margin), rng)
        spare_x = self.canvas.shape[1] - width
        spare_y = self.canvas.shape[0] - height
        self.x0, self.y0 = rng.uniform(0, spare_x), rng.uniform(0, spare_y)
        # Camera: up to ~2 px per frame of pan (at 1080p), up to 6% zoom over the shot.
        steps = max(1, shot.length)
        self.dx = float(np.clip(rng.normal(0, 0.6), -1, 1)) * spare_x / steps
        self.dy = float(np.clip(rng.normal(0, 0.4), -1, 1)) * spare_y / steps
        self.dx = float(np.clip(self.dx, -2.0 * width / 1920, 2.0 * width / 1920))
        self.dy = float(np.clip(self.dy, -1.5 * width / 1920, 1.5 * width / 1920))
        self.zoom = rng.uniform(-0.06, 0.06) / steps
        self.sprite_colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        self.sprite_size = int(rng.integers(height // 14, height // 6))
        self.sprite_y = rng.uniform(0.2, 0.8) * height
        self.sprite_speed = rng.uniform(2, 8) * width / 1920 * rng.choice([-1, 1])
        self.sprite_x = rng.uniform(0, width)

    def render(self, frame_number: int) -> Image:
        j = frame_number - self.shot.start
        scale = 1.0 + self.zoom * j
        x = float(np.clip(self.x0 + self.dx * j, 0, self.canvas.shape[1] - self.width * scale))
        y = float(np.clip(self.y0 + self.dy * j, 0, self.canvas.shape[0] - self.height * scale))
        matrix = np.array([[1 / scale, 0, -x / scale], [0, 1 / scale, -y / scale]], np.float32)
        view = cv2.warpAffine(
            self.canvas, matrix, (self.width, self.height), flags=cv2.INTER_LINEAR
        )
        centre = (
            round((self.sprite_x + self.sprite_speed * j) % self.width),
            round(self.sprite_y),
        )
        cv2.circle(view, centre, self.sprite_size, self.sprite_colour, -1, cv2.LINE_AA)
        return np.asarray(view, dtype=np.uint8)

    def weight(self, frame_number: int) -> float:
        j = frame_number - self.shot.start
        weight = 1.0
        if j < self.shot.fade_in:
            weight = (j + 1) / (self.shot.fade_in + 1)
        left = self.shot.length - j
        if left <= self.shot.fade_out:
            weight = min(weight, left / (self.shot.fade_out + 1))
        return weight


def _film_picture(width: int, height: int, rng: np.random.Generator) -> Image:
    """A set: a smooth colour field with mid-frequency texture and many soft-edged objects."""
    coarse = rng.random((5, 8, 3)).astype(np.float32)
    field = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    hsv = np.empty((height, width, 3), np.float32)
    hsv[..., 0] = (rng.uniform(0, 180) + 40 * field[..., 0]) % 180
    hsv[..., 1] = 50 + 160 * field[..., 1]
    hsv[..., 2] = rng.uniform(40, 90) + 150 * field[..., 2]
    image = cv2.cvtColor(hsv.clip(0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB)
    # Detail at two scales (foliage, fabric, brickwork): costly to code once, cheap to predict.
    coarse_detail = rng.normal(0, 1, (height // 4, width // 4)).astype(np.float32)
    fine_detail = rng.normal(0, 1, (height // 2, width // 2)).astype(np.float32)
    texture = 0.2 * cv2.resize(cv2.GaussianBlur(coarse_detail, (0, 0), 1.2), (width, height))
    texture += DETAIL * cv2.resize(fine_detail, (width, height), interpolation=cv2.INTER_LINEAR)
    image = (image.astype(np.float32) * (1 + texture[..., None])).clip(0, 255)
    picture = np.ascontiguousarray(image.astype(np.uint8))
    for _ in range(int(rng.integers(10, 24))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        size = int(rng.integers(height // 24, height // 5))
        shape = rng.random()
        if shape < 0.4:
            axes = (size, max(1, int(size * rng.uniform(0.4, 1.0))))
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(picture, (x, y), axes, angle, 0, 360, colour, -1, cv2.LINE_AA)
        elif shape < 0.8:
            corner = (x + size, y + int(size * rng.uniform(0.3, 2.0)))
            cv2.rectangle(picture, (x, y), corner, colour, -1)
        else:
            points = (rng.integers(-size, size, (5, 2)) + np.array([x, y])).astype(np.int32)
            cv2.fillPoly(picture, [points], colour, cv2.LINE_AA)
    return picture


class _Grain:
    """Film grain: a few precomputed fields of fine, soft luma noise, picked at random per frame
    and shifted, so no two frames share their grain."""

    def __init__(self, width: int, height: int, rng: np.random.Generator, sigma: float) -> None:
        self._rng = rng
        self._width, self._height = width, height
        pad = 16
        self._fields: list[tuple[Image, Image]] = []
        for _ in range(4):
            white = rng.normal(0, 1, (height + pad, width + pad)).astype(np.float32)
            soft = np.asarray(cv2.GaussianBlur(white, (0, 0), GRAIN_SOFTNESS), np.float32)
            soft *= sigma / max(float(soft.std()), 1e-6)
            grain = np.repeat(soft.round().astype(np.int16)[..., None], 3, axis=2)
            self._fields.append(
                (grain.clip(0, 255).astype(np.uint8), (-grain).clip(0, 255).astype(np.uint8))
            )

    def apply(self, image: Image) -> Image:
        up, down = self._fields[int(self._rng.integers(len(self._fields)))]
        dx, dy = (int(v) for v in self._rng.integers(0, 16, 2))
        h, w = self._height, self._width
        added = cv2.add(image, up[dy : dy + h, dx : dx + w])
        return np.asarray(cv2.subtract(added, down[dy : dy + h, dx : dx + w]), dtype=np.uint8)


def write_film_like_video(
    path: Path,
    *,
    seconds: float,
    width: int = 1920,
    height: int = 1080,
    fps: int = 24,
    seed: int = 0,
    crf: int = 22,
    preset: str = "veryfast",
    grain: float = 4.5,
    fixed_gop: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FilmTruth:
    """Write an H.264 MP4 that looks, to a decoder and to a shot detector, like a film.

    Shots of 2-8 s (a textured set, a moving camera, an object crossing), joined mostly by hard
    cuts and sometimes by a fade through black or a dissolve, under temporal film grain,
    encoded by x264 with its default GOP (keyframes every 250 frames at most, and at the cuts
    its scene-change detection finds).

    Args:
        path: the file to write (parent folder must exist).
        seconds: length (> 0).
        width: frame width, even and >= 16.
        height: frame height, even and >= 16.
        fps: frames per second (>= 1).
        seed: the same seed writes the same film.
        crf: x264 constant rate factor (lower is larger and better).
        preset: x264 preset.
        grain: standard deviation of the grain in luma levels (>= 0).
        fixed_gop: a keyframe every this many frames and nowhere else (x264's scene-cut
            keyframes off), as some streaming encodes do; default x264's own placement.
        progress: called as ``progress(frames_written, frames_total)`` every second of video.

    Returns:
        The planted ground truth.
    """
    if width < 16 or width % 2:
        raise ValueError(f"width must be even and >= 16, got {width}")
    if height < 16 or height % 2:
        raise ValueError(f"height must be even and >= 16, got {height}")
    if fps < 1:
        raise ValueError(f"fps must be >= 1, got {fps}")
    if not (math.isfinite(grain) and grain >= 0):
        raise ValueError(f"grain must be >= 0, got {grain}")
    if fixed_gop is not None and fixed_gop < 1:
        raise ValueError(f"fixed_gop must be >= 1, got {fixed_gop}")
    shots, total = plan_film(seconds, fps=fps, seed=seed)
    rng = np.random.default_rng(seed + 1)
    pictures = _film_frames(shots, total, width, height, rng, grain)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        if fixed_gop is not None:
            gop = str(fixed_gop)
            stream.options |= {"g": gop, "keyint_min": gop, "sc_threshold": "0"}
        # Rendering (OpenCV, which releases the GIL) runs ahead in a thread while x264 encodes.
        for number, pixels in enumerate(_prefetch(pictures, depth=4)):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = number, Fraction(1, fps)
            container.mux(stream.encode(frame))
            if progress is not None and (number + 1) % fps == 0:
                progress(number + 1, total)
        container.mux(stream.encode(None))
    if progress is not None:
        progress(total, total)
    return _film_truth(path, width, height, fps, shots, total)


def _film_frames(
    shots: Sequence[_FilmShot],
    total: int,
    width: int,
    height: int,
    rng: np.random.Generator,
    grain: float,
) -> Iterator[Image]:
    """Every frame of the film, in order; at most two scenes (a dissolve) are held at once."""
    film_grain = _Grain(width, height, rng, grain) if grain > 0 else None
    scenes: dict[int, _FilmScene] = {}
    black = np.zeros((height, width, 3), np.uint8)
    first_active = 0
    for number in range(total):
        while first_active < len(shots) and shots[first_active].stop <= number:
            scenes.pop(first_active, None)
            first_active += 1
        layers: list[tuple[Image, float]] = []
        for index in range(first_active, len(shots)):
            shot = shots[index]
            if shot.start > number:
                break
            if index not in scenes:
                scenes[index] = _FilmScene(shot, width, height, rng)
            scene = scenes[index]
            layers.append((scene.render(number), scene.weight(number)))
        pixels = _blend(layers, black)
        yield film_grain.apply(pixels) if film_grain is not None else pixels


def _prefetch(items: Iterator[Image], *, depth: int) -> Iterator[Image]:
    """``items``, produced by a background thread up to ``depth`` ahead."""
    done = object()
    queue: Queue[object] = Queue(maxsize=depth)
    failure: list[BaseException] = []
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put(item, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # handed to the consumer
            failure.append(exc)
        queue.put(done)

    worker = threading.Thread(target=produce, name="film-render", daemon=True)
    worker.start()
    try:
        while (item := queue.get()) is not done:
            yield cast(Image, item)
    finally:
        stop.set()
        worker.join(timeout=5)
    if failure:
        raise failure[0]


def _blend(layers: Sequence[tuple[Image, float]], black: Image) -> Image:
    if not layers:
        return black.copy()
    if len(layers) == 1:
        image, weight = layers[0]
        return image if weight >= 1.0 else np.asarray(cv2.convertScaleAbs(image, alpha=weight))
    (a, wa), (b, wb) = layers[0], layers[1]
    return np.asarray(cv2.addWeighted(a, wa, b, wb, 0.0), dtype=np.uint8)
