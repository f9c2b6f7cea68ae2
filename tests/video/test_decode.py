"""Probing and decoding: bad inputs, sampling plan, the analysis pass (``FrameReader``),
full-resolution stills, keyframes."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from artwork.errors import VideoError
from artwork.testing.synthetic import (
    Segment,
    SyntheticTruth,
    write_audio_only,
    write_synthetic_video,
)
from artwork.video.decode import (
    MIN_SAMPLES,
    DecodeStats,
    FrameReader,
    PacketLog,
    _area_resize,
    iter_keyframes,
    plan_sample_times,
    probe,
    read_frames_at,
)


def _all_frames(path: Path) -> list[tuple[float, np.ndarray]]:
    """Every frame with its time, decoded the plain way, as the reference."""
    with av.open(str(path)) as container:
        return [
            (float(f.time or 0.0), f.to_ndarray(format="rgb24"))
            for f in container.decode(container.streams.video[0])
        ]


# --- probe -------------------------------------------------------------------------------------
def test_probe_describes_a_synthetic_video(synthetic: SyntheticTruth) -> None:
    info = probe(synthetic.path)
    assert info.path == synthetic.path
    assert info.duration_s == pytest.approx(10.0, abs=0.05)
    assert info.fps == pytest.approx(25.0)
    assert (info.width, info.height) == (320, 180)
    assert info.codec == "h264"
    assert info.rotation == 0


@pytest.mark.parametrize(
    ("name", "size", "duration"),
    [("bigbuckbunny", (1280, 720), 5.28), ("bikes", (640, 272), 10.0)],
)
def test_probe_describes_real_clips(
    clip_path: Callable[[str], Path], name: str, size: tuple[int, int], duration: float
) -> None:
    info = probe(clip_path(name))
    assert (info.width, info.height) == size
    assert info.fps == pytest.approx(25.0)
    assert info.duration_s == pytest.approx(duration, abs=0.1)


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "nope.mp4"


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.mp4"
    path.touch()
    return path


def _text(tmp_path: Path) -> Path:
    path = tmp_path / "notes.mp4"
    path.write_text("this is a text file, not a video\n" * 20)
    return path


def _folder(tmp_path: Path) -> Path:
    path = tmp_path / "folder.mp4"
    path.mkdir()
    return path


def _audio_only(tmp_path: Path) -> Path:
    return write_audio_only(tmp_path / "song.mp4")


def _garbled(tmp_path: Path) -> Path:
    """A valid MP4 container whose video payload is all zeros: nothing decodes."""
    source = write_synthetic_video(tmp_path / "source.mp4", seconds=1.0).path
    data = bytearray(source.read_bytes())
    at = data.find(b"mdat")
    size = int.from_bytes(data[at - 4 : at], "big")
    data[at + 4 : at - 4 + size] = bytes(size - 8)
    path = tmp_path / "garbled.mp4"
    path.write_bytes(bytes(data))
    return path


BAD_INPUTS = {
    "missing": (_missing, "no such file"),
    "zero-byte": (_empty, "empty"),
    "text named .mp4": (_text, "not a video"),
    "a folder": (_folder, "not a regular file"),
    "audio only": (_audio_only, "no video stream"),
    "no decodable frames": (_garbled, "no decodable frames"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_inputs_raise_a_one_line_video_error(tmp_path: Path, case: str) -> None:
    make, expected = BAD_INPUTS[case]
    path = make(tmp_path)
    with pytest.raises(VideoError, match=expected) as raised:
        probe(path)
    message = raised.value.message
    assert "\n" not in message and str(path) in message
    assert ";" in message, "the message should say what to do"
    with pytest.raises(VideoError):  # same message, except "no frame near 0.00 s" for garbled
        read_frames_at(path, [0.0])


# --- the sampling plan -------------------------------------------------------------------------
def test_plan_samples_every_interval_at_slice_centres() -> None:
    times = plan_sample_times(10.0, interval_s=0.25, max_frames=240)
    assert len(times) == 40
    assert times[0] == pytest.approx(0.125) and times[-1] == pytest.approx(9.875)
    assert np.allclose(np.diff(times), 0.25)


def test_plan_spreads_max_frames_over_a_long_video() -> None:
    times = plan_sample_times(7200.0, interval_s=0.25, max_frames=240)
    assert len(times) == 240
    assert times[0] == pytest.approx(15.0) and times[-1] == pytest.approx(7185.0)


def test_plan_gives_a_short_video_a_few_samples() -> None:
    times = plan_sample_times(0.6, interval_s=0.25, max_frames=240)
    assert len(times) == MIN_SAMPLES
    assert all(0 < t < 0.6 for t in times)
    assert len(plan_sample_times(0.6, interval_s=0.25, max_frames=3)) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration_s": 0.0}, "duration_s must be > 0, got 0.0"),
        ({"interval_s": 0.0}, "interval_s must be > 0, got 0.0"),
        ({"max_frames": 0}, "max_frames must be >= 1, got 0"),
        ({"min_frames": 0}, "min_frames must be >= 1, got 0"),
    ],
)
def test_plan_names_the_bad_argument(kwargs: dict[str, float], message: str) -> None:
    arguments: dict[str, float] = {"duration_s": 10.0, "interval_s": 1.0, "max_frames": 5}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        plan_sample_times(**arguments)  # type: ignore[arg-type]


# --- the analysis pass ---------------------------------------------------------------------------
def test_frame_reader_scales_down_and_names_every_frame(synthetic: SyntheticTruth) -> None:
    stats = DecodeStats()
    with FrameReader(synthetic.path, width=160, stats=stats) as reader:
        frames = list(reader.frames(0.0))
    assert len(frames) == 250
    for frame in frames:
        assert frame.image.shape == (90, 160, 3) and frame.image.dtype == np.uint8
        assert frame.index == round(frame.time_s * 25)
    assert stats.bad_packets == stats.corrupt_frames == 0


def test_frame_reader_does_not_upscale(synthetic: SyntheticTruth) -> None:
    with FrameReader(synthetic.path, width=1000) as reader:
        frame = next(iter(reader.frames(0.0, 0.2)))
    assert frame.image.shape == (180, 320, 3)


def test_a_clip_under_one_second_still_gives_a_few_samples(tmp_path: Path) -> None:
    truth = write_synthetic_video(tmp_path / "short.mp4", seconds=0.6, plan=[Segment("shot", 0.6)])
    info = probe(truth.path)
    assert info.duration_s == pytest.approx(0.6, abs=0.05)
    times = plan_sample_times(info.duration_s, interval_s=0.25, max_frames=240)
    assert len(times) == MIN_SAMPLES
    with FrameReader(truth.path, width=320) as reader:
        indices = {f.index for f in reader.frames(0.0)}
    assert len({round(t * info.fps) for t in times} & indices) == MIN_SAMPLES


def test_frame_reader_holds_only_the_frame_it_yields(synthetic: SyntheticTruth) -> None:
    # Every frame (250 of 173 kB) would be 43 MB; the pass must not accumulate them.
    tracemalloc.start()
    try:
        with FrameReader(synthetic.path, width=320) as reader:
            count = sum(1 for _ in reader.frames(0.0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 250
    assert peak < 5_000_000


def test_frame_reader_skips_corrupt_packets(synthetic: SyntheticTruth, tmp_path: Path) -> None:
    data = bytearray(synthetic.path.read_bytes())
    at = data.find(b"mdat")
    size = int.from_bytes(data[at - 4 : at], "big")
    start = at + size // 3
    noise = np.random.default_rng(7).integers(0, 256, size // 10, dtype=np.uint8)
    data[start : start + noise.size] = noise.tobytes()
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))

    stats = DecodeStats()
    with FrameReader(broken, width=160, stats=stats) as reader:
        frames = list(reader.frames(0.0))
    assert stats.bad_packets + stats.corrupt_frames > 0
    assert len(frames) >= 200  # the frames around the damage still come


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_metadata_is_applied(tmp_path: Path, rotation: int) -> None:
    plan = [Segment("shot", 1.0)]
    upright = write_synthetic_video(tmp_path / "upright.mp4", plan=plan)
    turned = write_synthetic_video(tmp_path / "turned.mp4", plan=plan, rotation=rotation)
    info = probe(turned.path)
    assert info.rotation == rotation
    expected_size = (180, 320) if rotation in (90, 270) else (320, 180)
    assert (info.width, info.height) == expected_size

    with FrameReader(upright.path, width=320) as reader:
        plain = list(reader.frames(0.0))
    with FrameReader(turned.path, width=320) as reader:
        rotated = list(reader.frames(0.0))
    assert len(plain) == len(rotated) == 25
    for a, b in zip(plain, rotated, strict=True):
        assert np.array_equal(np.rot90(a.image, rotation // 90), b.image)
    [still] = read_frames_at(turned.path, [0.5])
    assert still.image.shape == (expected_size[1], expected_size[0], 3)


def test_real_clip_analysis_frames(clip_path: Callable[[str], Path]) -> None:
    path = clip_path("bigbuckbunny")
    info = probe(path)
    with FrameReader(path, width=320) as reader:
        frames = list(reader.frames(0.0))
    assert abs(len(frames) - info.duration_s * info.fps) <= 2
    assert all(f.image.shape == (180, 320, 3) for f in frames)


# --- full-resolution stills --------------------------------------------------------------------
def test_read_frames_at_returns_the_nearest_frames_in_order(synthetic: SyntheticTruth) -> None:
    reference = _all_frames(synthetic.path)
    times = [9.5, 0.5, 5.02, 5.0, 0.5, 2.31, 100.0]  # out of order, repeated, past the end
    stills = read_frames_at(synthetic.path, times)
    assert len(stills) == len(times)
    for wanted, still in zip(times, stills, strict=True):
        nearest = min(reference, key=lambda item: abs(item[0] - wanted))
        assert still.time_s == pytest.approx(nearest[0], abs=0.041)
        assert abs(still.time_s - min(wanted, reference[-1][0])) <= 0.02 + 1e-9
        assert still.image.shape == (180, 320, 3)
    exact = {t: image for t, image in reference}
    for still in stills:
        assert np.array_equal(still.image, exact[still.time_s])


def test_read_frames_at_agrees_with_the_analysis_pass(synthetic: SyntheticTruth) -> None:
    with FrameReader(synthetic.path, width=320) as reader:
        sampled = list(reader.frames(0.0))[::12]
    stills = read_frames_at(synthetic.path, [f.time_s for f in sampled])
    for frame, still in zip(sampled, stills, strict=True):
        assert still.index == frame.index
        assert np.array_equal(still.image, frame.image)


@pytest.mark.parametrize("clip", ["synthetic", "bikes"])
def test_keyframe_stills_are_the_ordinary_stills(
    clip: str, synthetic: SyntheticTruth, clip_path: Callable[[str], Path]
) -> None:
    path = synthetic.path if clip == "synthetic" else clip_path("bikes")
    keyframes = [f.time_s for f in iter_keyframes(path, width=32)]
    times = [*keyframes[::-1], keyframes[-1] + 0.3]  # out of order, and one that is no keyframe
    fast = read_frames_at(path, times, keyframes=True)
    for still, expected in zip(fast, read_frames_at(path, times), strict=True):
        assert (still.index, still.time_s) == (expected.index, expected.time_s)
        assert np.array_equal(still.image, expected.image)


def test_read_frames_at_real_clip_full_resolution(clip_path: Callable[[str], Path]) -> None:
    stills = read_frames_at(clip_path("bikes"), [9.0, 1.0, 6.0])
    assert [s.index for s in stills] == [225, 25, 150]
    assert all(s.image.shape == (272, 640, 3) for s in stills)


def test_read_frames_at_checks_times(synthetic: SyntheticTruth) -> None:
    assert read_frames_at(synthetic.path, []) == []
    with pytest.raises(ValueError, match=r"times_s\[1\] must be a finite time >= 0, got -1"):
        read_frames_at(synthetic.path, [0.0, -1.0])
    with pytest.raises(ValueError, match="times_s"):
        read_frames_at(synthetic.path, [float("nan")])


def test_a_raw_stream_without_timestamps_or_seeking(
    synthetic: SyntheticTruth, tmp_path: Path
) -> None:
    raw = tmp_path / "planted.h264"  # Annex B elementary stream: no duration, no index
    with av.open(str(synthetic.path)) as source, av.open(str(raw), "w", format="h264") as out:
        video = source.streams.video[0]
        target = out.add_stream_from_template(video)
        for packet in source.demux(video):
            if packet.dts is not None:
                packet.stream = target
                out.mux(packet)
    info = probe(raw)
    assert info.duration_s == pytest.approx(synthetic.duration_s, abs=0.05)
    with FrameReader(raw, width=320) as reader:
        assert len(list(reader.frames(0.0))) == 250
        later = [f.index for f in reader.frames(6.0, 6.2)]  # backwards: reopens, no seeking
    assert later[0] == 150 and later == list(range(150, 150 + len(later))) and len(later) >= 4
    times = [9.0, 1.0, 6.0]  # backwards and beyond SEEK_AHEAD_S: reopens instead of seeking
    for still, expected in zip(
        read_frames_at(raw, times), read_frames_at(synthetic.path, times), strict=True
    ):
        assert still.index == expected.index
        assert np.array_equal(still.image, expected.image)


# --- keyframes and stretches -------------------------------------------------------------------
def test_iter_keyframes_decodes_only_keyframes_and_logs_every_packet(
    synthetic: SyntheticTruth,
) -> None:
    packets = PacketLog()
    stats = DecodeStats()
    keyframes = list(iter_keyframes(synthetic.path, width=160, packets=packets, stats=stats))
    reference = {round(t * synthetic.fps) for t, _ in _all_frames(synthetic.path)}
    assert len(packets) == len(reference) == synthetic.frame_count
    times, sizes, flags = packets.arrays()
    assert np.all(np.diff(times) > 0) and np.all(sizes > 0)
    assert [round(f.time_s * synthetic.fps) for f in keyframes] == [
        round(t * synthetic.fps) for t in times[flags]
    ]
    assert stats.decoded == len(keyframes) < synthetic.frame_count / 10
    assert all(f.image.shape == (90, 160, 3) for f in keyframes)
    assert packets.timed


def test_frame_reader_yields_stretches_at_full_rate(synthetic: SyntheticTruth) -> None:
    reference = dict(_all_frames(synthetic.path))
    with FrameReader(synthetic.path, width=320) as reader:
        later = list(reader.frames(6.0, 6.4))
        earlier = list(reader.frames(1.0, 1.2))  # backwards: seeks
        following = list(reader.frames(1.2, 1.3))  # straight on: no seek
        rest = list(reader.frames(9.9))
    assert [f.index for f in later] == list(range(150, 160))
    assert [f.index for f in earlier] == list(range(25, 30))
    assert [f.index for f in following] == [30, 31]
    assert [f.index for f in rest] == [247, 248, 249]
    for frame in later + earlier + following:
        assert np.array_equal(frame.image, reference[frame.time_s])


def test_skipping_b_frames_keeps_i_and_p_frames_exact(synthetic: SyntheticTruth) -> None:
    reference = dict(_all_frames(synthetic.path))
    with (
        FrameReader(synthetic.path, width=320, skip_nonref=True) as references,
        FrameReader(synthetic.path, width=320, skip_bidir=True) as coarse,
    ):
        kept = list(references.frames(0.0))
        ip = list(coarse.frames(0.0))
    # x264's default GOP: three B-frames between P-frames, the middle one a reference.
    assert len(ip) < len(kept) < len(reference)
    assert {f.time_s for f in ip} < {f.time_s for f in kept}
    # What is decoded is decoded exactly (x264's P-frames never refer to its B-frames).
    for frame in ip:
        assert np.array_equal(frame.image, reference[frame.time_s])


def test_frame_reader_fast_mode_stays_close(synthetic: SyntheticTruth) -> None:
    with (
        FrameReader(synthetic.path, width=64) as exact,
        FrameReader(synthetic.path, width=64, fast=True) as fast,
    ):
        a = [f.image.astype(int) for f in exact.frames(0.0, 1.0)]
        b = [f.image.astype(int) for f in fast.frames(0.0, 1.0)]
    assert len(a) == len(b) == 25
    assert max(float(np.abs(x - y).mean()) for x, y in zip(a, b, strict=True)) < 5.0


def test_frame_reader_checks_its_arguments(synthetic: SyntheticTruth, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="width must be >= 1, got 0"):
        FrameReader(synthetic.path, width=0)
    with pytest.raises(VideoError, match="no such file"):
        FrameReader(tmp_path / "absent.mp4", width=64)
    with FrameReader(synthetic.path, width=64) as reader:
        with pytest.raises(ValueError, match="start_s must be a finite time >= 0"):
            reader.frames(-1.0)
        with pytest.raises(ValueError, match=r"end_s must be > start_s \(2.0\), got 1.0"):
            reader.frames(2.0, 1.0)
    with pytest.raises(ValueError, match="width must be >= 1, got 0"):
        iter_keyframes(synthetic.path, width=0)


def test_probe_remembers_a_file_until_it_changes(tmp_path: Path) -> None:
    path = write_synthetic_video(tmp_path / "a.mp4", seconds=1).path
    first = probe(path)
    assert probe(path) == first
    link = tmp_path / "link.mp4"
    link.symlink_to(path)
    assert probe(link).path == link and probe(link).duration_s == first.duration_s
    write_synthetic_video(path, seconds=2)  # rewritten: another size and time
    assert probe(path).duration_s == pytest.approx(2, abs=0.1)
    path.write_bytes(b"")
    with pytest.raises(VideoError, match="empty"):
        probe(path)


def test_frame_reader_seeks_to_a_keyframe_instead_of_decoding_up_to_it(
    synthetic: SyntheticTruth,
) -> None:
    # x264 put a keyframe at frame 105 (4.2 s) of this video; 3.8 s ahead of the first stretch
    # is under SEEK_AHEAD_S, so an ordinary read decodes its way there.
    def read(at_keyframe: bool) -> tuple[list[np.ndarray], int]:
        stats = DecodeStats()
        with FrameReader(synthetic.path, width=160, stats=stats) as reader:
            list(reader.frames(0.0, 0.4))
            frames = list(reader.frames(4.2, 4.6, at_keyframe=at_keyframe))
        return [f.image for f in frames], stats.decoded

    through, decoded_through = read(at_keyframe=False)
    jumped, decoded_jumped = read(at_keyframe=True)
    assert len(jumped) == len(through) == 10
    assert all(np.array_equal(a, b) for a, b in zip(jumped, through, strict=True))
    assert decoded_jumped < 40 < 100 < decoded_through


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720), (1440, 1080), (321, 179)])
def test_area_resize_matches_block_means(size: tuple[int, int]) -> None:
    width, height = size
    rng = np.random.default_rng(width)
    plane = rng.integers(0, 256, (height, width), dtype=np.uint8)
    target = (64, max(1, round(height * 64 / width)))
    got = _area_resize(plane, *target)
    reference = cv2.resize(plane, target, interpolation=cv2.INTER_AREA)
    assert got.shape == reference.shape and got.dtype == np.uint8
    assert int(np.abs(got.astype(int) - reference.astype(int)).max()) <= 1
