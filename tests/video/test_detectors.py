"""Every shot detector against planted ground truth (the contract in
:mod:`artwork.testing.contracts.shots`), and what is special to each."""

from __future__ import annotations

import logging
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from artwork.config import Settings
from artwork.domain import VideoInfo
from artwork.testing.contracts import ShotDetectorContract
from artwork.testing.contracts.shots import frame_numbers, plan_for, within_a_frame
from artwork.testing.films import FilmTruth, write_film_like_video
from artwork.testing.synthetic import Segment, SyntheticTruth, write_synthetic_video
from artwork.video import keyframe_detector
from artwork.video.changes import ChangeParams, Signature, content_distance, signature
from artwork.video.decode import PacketLog, probe
from artwork.video.frame_detector import FrameShotDetector
from artwork.video.keyframe_detector import (
    REFERENCE_PERCENTILE,
    REFERENCE_SPAN,
    KeyframeShotDetector,
    _anomaly_at,
    _Interval,
    _Keyframe,
    _Settling,
    reference_sizes,
)
from artwork.video.registry import SHOT_DETECTORS, create_shot_detector, shot_detector_name_for
from artwork.video.shots import ShotDetector, ShotScan

DETECTORS = sorted(SHOT_DETECTORS)


def _detector(name: str) -> ShotDetector:
    return SHOT_DETECTORS[name](Settings(shot_detector=name))  # type: ignore[arg-type]


class TestEveryShotDetector(ShotDetectorContract):
    @pytest.fixture(params=DETECTORS)
    def detector(self, request: pytest.FixtureRequest) -> ShotDetector:
        return _detector(request.param)

    def test_the_scan_names_its_detector(
        self, detector: ShotDetector, synthetic: SyntheticTruth
    ) -> None:
        info = probe(synthetic.path)
        assert detector.scan(synthetic.path, info, plan_for(info)).detector == detector.name


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> FilmTruth:
    """40 s of film-like footage at 320x180: cuts (keyframes at most), a fade, a dissolve."""
    return write_film_like_video(
        tmp_path_factory.mktemp("film") / "film.mp4", seconds=40, width=320, height=180, seed=1
    )


@pytest.fixture(scope="module")
def fixed_gop_film(tmp_path_factory: pytest.TempPathFactory) -> FilmTruth:
    """The same film with a keyframe every 2 s and nowhere else: every cut is inside a GOP."""
    return write_film_like_video(
        tmp_path_factory.mktemp("film") / "gop.mp4",
        seconds=40,
        width=320,
        height=180,
        seed=1,
        fixed_gop=48,
    )


@pytest.mark.parametrize("which", ["film", "fixed_gop_film"])
def test_keyframes_find_film_cuts_and_transitions(
    request: pytest.FixtureRequest, which: str
) -> None:
    truth: FilmTruth = request.getfixturevalue(which)
    info = probe(truth.path)
    scan = KeyframeShotDetector(refine_budget=1.0).scan(truth.path, info, plan_for(info))
    found = frame_numbers(scan.shots.cuts_s, truth.fps)
    assert within_a_frame(found, frame_numbers(truth.cuts_s, truth.fps)), found
    assert [t.kind for t in scan.shots.transitions] == [t.kind for t in truth.transitions]
    for got, planted in zip(scan.shots.transitions, truth.transitions, strict=True):
        assert abs(got.start_s - planted.start_s) <= 2 / truth.fps
        assert abs(got.end_s - planted.end_s) <= 2 / truth.fps
    # Only keyframes and the refinement windows were decoded, not the whole film.
    assert scan.frames_decoded < truth.frame_count
    assert scan.keyframes == len(scan.samples) or len(scan.samples) <= scan.keyframes


def test_grain_does_not_make_ordinary_frames_look_like_cuts() -> None:
    rng = np.random.default_rng(3)
    # P-frames three times the B-frames between them, both noisy as under film grain: against
    # the median of all packets every P-frame is a "spike"; against its reference it is not.
    pattern = np.tile([300_000, 100_000, 100_000, 100_000], 30).astype(np.float64)
    sizes = (pattern * rng.uniform(0.8, 1.25, pattern.size)).astype(np.int64)
    keys = np.zeros(sizes.size, bool)
    keys[0] = True
    sizes[0] = 800_000
    reference = reference_sizes(sizes, keys)
    inside = slice(1, None)
    assert _anomaly_at(sizes[inside], reference[inside], key_median=800_000) is None
    fresh = sizes.copy()
    fresh[61] = 800_000  # a frame coded afresh: a cut the encoder did not mark with a keyframe
    reference = reference_sizes(fresh, keys)
    # The anomaly is placed at the packet coded afresh (index 60 of the interval).
    assert _anomaly_at(fresh[inside], reference[inside], key_median=800_000) == 60
    assert np.isinf(reference_sizes(np.array([5]), np.array([True]))).all()


@pytest.mark.parametrize("key_share", [0.0, 0.05, 0.5, 1.0])
@pytest.mark.parametrize("packets", [1, 2, 7, 300])
def test_reference_size_is_a_percentile_of_neighbours(key_share: float, packets: int) -> None:
    rng = np.random.default_rng(packets)
    sizes = rng.integers(1, 100_000, packets)
    keys = rng.random(packets) < key_share
    span = REFERENCE_SPAN
    expected = np.full(packets, np.inf)
    for i in range(packets):
        around = [j for j in range(i - span, i + span + 1) if 0 <= j < packets and j != i]
        values = [sizes[j] for j in around if not keys[j]]
        if values:
            expected[i] = np.percentile(values, REFERENCE_PERCENTILE)
    np.testing.assert_allclose(reference_sizes(sizes, keys), expected, rtol=1e-12)


@pytest.fixture(scope="module")
def grainy_film(tmp_path_factory: pytest.TempPathFactory) -> FilmTruth:
    """The film of ``film`` under heavy grain (sigma 12): every packet's size is noisy."""
    return write_film_like_video(
        tmp_path_factory.mktemp("film") / "grainy.mp4",
        seconds=40,
        width=320,
        height=180,
        seed=1,
        grain=12.0,
    )


@pytest.fixture(scope="module")
def hevc_film(film: FilmTruth, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The film of ``film`` re-encoded by x265 with its defaults: open GOPs (CRA keyframes)
    and P-pictures coded as B-slices."""
    av = pytest.importorskip("av")
    try:
        av.codec.Codec("libx265", "w")
    except av.error.FFmpegError:
        pytest.skip("this FFmpeg has no libx265 encoder")
    path = tmp_path_factory.mktemp("film") / "hevc.mp4"
    with av.open(str(film.path)) as source, av.open(str(path), "w") as out:
        stream = out.add_stream("libx265", rate=film.fps)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"x265-params": "log-level=error"}
        stream.codec_context.time_base = Fraction(1, film.fps)
        for number, frame in enumerate(source.decode(video=0)):
            frame.pts, frame.time_base = number, Fraction(1, film.fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_keyframes_follow_an_hevc_film_as_every_frame_does(hevc_film: Path) -> None:
    # Fed keyframes alone, FFmpeg's HEVC decoder hands open-GOP keyframes out of order, and
    # skipping B-frames leaves only the keyframes of x265's output: the scan still finds
    # what decoding every frame finds.
    info = probe(hevc_film)
    every = FrameShotDetector().scan(hevc_film, info, plan_for(info))
    scan = KeyframeShotDetector(refine_budget=1.0).scan(hevc_film, info, plan_for(info))
    assert scan.detector == "keyframes"
    times = [f.time_s for f in scan.samples]
    assert times == sorted(times)
    assert within_a_frame(
        frame_numbers(scan.shots.cuts_s, info.fps), frame_numbers(every.shots.cuts_s, info.fps)
    )
    assert [t.kind for t in scan.shots.transitions] == [t.kind for t in every.shots.transitions]


def _assert_all_planted(scan: ShotScan, truth: FilmTruth) -> None:
    """No false cut: every cut the scan found lies within a frame of a planted one."""
    found = frame_numbers(scan.shots.cuts_s, truth.fps)
    planted = frame_numbers(truth.cuts_s, truth.fps)
    assert all(any(abs(c - f) <= 1 for c in planted) for f in found), found


def test_keyframes_stay_cheap_and_exact_on_grainy_film(grainy_film: FilmTruth) -> None:
    info = probe(grainy_film.path)
    scan = KeyframeShotDetector().scan(grainy_film.path, info, plan_for(info))
    found = frame_numbers(scan.shots.cuts_s, grainy_film.fps)
    planted = frame_numbers(grainy_film.cuts_s, grainy_film.fps)
    hits = [c for c in planted if any(abs(c - f) <= 1 for f in found)]
    assert len(hits) >= len(planted) - len(scan.shots.approximate_s)
    _assert_all_planted(scan, grainy_film)
    assert scan.frames_decoded < grainy_film.frame_count / 3


def _flat(rgb: tuple[int, int, int]) -> Signature:
    return signature(np.full((36, 64, 3), rgb, np.uint8))


def _verdicts(
    settling: _Settling, pictures: list[Signature], fps: float = 24.0
) -> list[str | None]:
    return [settling.verdict(i / fps, sig) for i, sig in enumerate(pictures)]


RED, BLUE, BLACK = (200, 40, 40), (30, 30, 110), (5, 5, 5)
SPAN = max(ChangeParams().dissolve_halves_s)


def _end(rgb: tuple[int, int, int], **flags: bool | float) -> _Keyframe:
    sig = _flat(rgb)
    return _Keyframe(10.0, 50.0, sig.luma, sig, **flags)  # type: ignore[arg-type]


def test_a_steady_picture_alike_the_end_keyframe_settles_after_the_longest_dissolve_half() -> None:
    params = ChangeParams()
    pictures = [_flat(BLUE)] * 10 + [_flat(RED)] * 30
    for end in (_end(RED, on_grid=True), _end(RED)):
        verdicts = _verdicts(_Settling(end, params, SPAN), pictures)
        first = verdicts.index(_Settling.ALIKE)
        assert set(verdicts[:first]) == {None}
        assert (first - 10) / 24.0 == pytest.approx(SPAN, abs=1 / 24)
    # Not before the last packet that hints at a cut has been decoded.
    late = _end(RED, last_anomaly_s=1.2)
    assert _verdicts(_Settling(late, params, SPAN), [_flat(RED)] * 40).index("alike") == 29


def test_a_steady_picture_unlike_the_end_keyframe_is_a_cut_only_where_the_encoder_put_it() -> None:
    params = ChangeParams()
    assert content_distance(_flat(RED), _flat(BLUE)) >= params.cut_threshold
    pictures = [_flat(RED)] * 40
    # On the grid, the cut may lie anywhere up to the keyframe: decoding goes on.
    assert set(_verdicts(_Settling(_end(BLUE, on_grid=True), params, SPAN), pictures)) == {None}
    # Dark or fading (may_be_cut unset): the fade is still to be measured.
    assert set(_verdicts(_Settling(_end(BLUE), params, SPAN), pictures)) == {None}
    off_grid = _verdicts(_Settling(_end(BLUE, may_be_cut=True), params, SPAN), pictures)
    assert off_grid[-1] == _Settling.CUT and set(off_grid[:18]) == {None}


def test_an_on_grid_keyframe_must_look_much_alike() -> None:
    params = ChangeParams()
    # Between "alike" for an off-grid keyframe and for an on-grid one.
    near = (170, 40, 40)
    distance = content_distance(_flat(RED), _flat(near))
    assert params.cut_threshold / 3 <= distance < params.cut_threshold
    pictures = [_flat(RED)] * 40
    assert _verdicts(_Settling(_end(near), params, SPAN), pictures)[-1] == _Settling.ALIKE
    assert set(_verdicts(_Settling(_end(near, on_grid=True), params, SPAN), pictures)) == {None}


@pytest.mark.parametrize("may_be_cut", [False, True])
def test_dark_or_dissolving_pictures_never_settle(may_be_cut: bool) -> None:
    params = ChangeParams()
    end = _end(RED, may_be_cut=may_be_cut)
    assert set(_verdicts(_Settling(end, params, SPAN), [_flat(BLACK)] * 40)) == {None}
    # A dissolve from blue to red over 1.5 s: never steady, and over at the last frame.
    mixes = [
        signature(np.full((36, 64, 3), np.array(BLUE) * (1 - w) + np.array(RED) * w, np.uint8))
        for w in np.linspace(0.0, 1.0, 36)
    ]
    assert set(_verdicts(_Settling(end, params, SPAN), mixes)) == {None}


@pytest.mark.parametrize("which", ["film", "fixed_gop_film", "grainy_film"])
def test_skipping_settled_intervals_changes_no_boundary(
    which: str, request: pytest.FixtureRequest
) -> None:
    truth: FilmTruth = request.getfixturevalue(which)
    info = probe(truth.path)
    settled = KeyframeShotDetector().scan(truth.path, info, plan_for(info))
    whole = KeyframeShotDetector(settle=False).scan(truth.path, info, plan_for(info))
    assert within_a_frame(
        frame_numbers(settled.shots.cuts_s, truth.fps), frame_numbers(whole.shots.cuts_s, truth.fps)
    )
    assert len(settled.shots.transitions) == len(whole.shots.transitions)
    for a, b in zip(settled.shots.transitions, whole.shots.transitions, strict=True):
        assert a.kind == b.kind
        assert (
            abs(a.start_s - b.start_s) <= 2 / truth.fps and abs(a.end_s - b.end_s) <= 2 / truth.fps
        )
    # Each of these films has an interval that settles before its end.
    assert settled.frames_decoded < whole.frames_decoded


def _film_log(
    key_times: list[float], intra_times: list[float], fps: float = 24.0
) -> tuple[list[_Keyframe], PacketLog]:
    """Keyframes (a red shot, then blue from the third keyframe on) and a packet log of
    even sizes, with intra pictures that are no keyframe at ``intra_times`` (no larger than
    the rest, as under heavy grain)."""
    keyframes: list[_Keyframe] = []
    previous: Signature | None = None
    for number, time_s in enumerate(key_times):
        sig = _flat(RED if number < 2 else BLUE)
        distance = content_distance(previous, sig) if previous is not None else 0.0
        keyframes.append(_Keyframe(time_s, distance, sig.luma, sig))
        previous = sig
    log = PacketLog()
    for frame in range(round(key_times[-1] * fps) + 1):
        time_s = frame / fps
        key = any(abs(time_s - k) < 0.5 / fps for k in key_times)
        intra = any(abs(time_s - i) < 0.5 / fps for i in intra_times)
        log.add(time_s, 20_000 if key else 1_000, key, intra=intra)
    return keyframes, log


def test_an_intra_picture_inside_an_interval_asks_for_a_look() -> None:
    # The change at 10.25 s comes with an off-grid keyframe: taken for a cut there, unless an
    # intra picture inside the interval (a shot coded afresh at 5.5 s, soon after the last
    # keyframe) says where the shot really changed.
    key_times = [0.0, 5.0, 10.25, 15.0, 20.5, 26.0]
    info = _info(26.0, 320, 180)
    detector = KeyframeShotDetector()
    keyframes, log = _film_log(key_times, [])
    cuts, windows = detector._judge(keyframes, log, info, set())
    assert cuts == [10.25] and windows == []
    keyframes, log = _film_log(key_times, [5.5])
    cuts, windows = detector._judge(keyframes, log, info, set())
    assert cuts == []
    [window] = windows
    assert window.end == 2 and window.anomaly and window.rank[0] == 0
    assert keyframes[2].last_anomaly_s == pytest.approx(5.5)
    # More intra pictures than keyframes (periodic, as in broadcast streams): no signal.
    periodic = [t + offset for t in key_times[:-1] for offset in (0.5, 2.5)]
    keyframes, log = _film_log(key_times, periodic)
    cuts, windows = detector._judge(keyframes, log, info, set())
    assert cuts == [10.25] and windows == []


def test_windows_most_likely_to_place_a_cut_per_frame_are_decoded_first() -> None:
    fade_only = _Interval(1, 20, may_hide_cut=False)
    on_grid_change = _Interval(2, 250, may_hide_cut=True)
    end_may_be_cut = _Interval(3, 150, may_hide_cut=False, end_may_be_cut=True)
    packets = _Interval(4, 200, may_hide_cut=True, anomaly=True)
    short_packets = _Interval(5, 30, may_hide_cut=True, anomaly=True)
    windows = [fade_only, on_grid_change, end_may_be_cut, packets, short_packets]
    assert sorted(windows, key=lambda w: w.rank) == [
        short_packets,
        packets,
        end_may_be_cut,
        on_grid_change,
        fade_only,
    ]


@pytest.mark.parametrize("which", ["film", "fixed_gop_film", "grainy_film"])
def test_the_coarse_look_first_changes_no_cut(
    which: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    truth: FilmTruth = request.getfixturevalue(which)
    info = probe(truth.path)
    with caplog.at_level(logging.DEBUG, logger="artwork.video.keyframe_detector"):
        coarse = KeyframeShotDetector(refine_budget=1.0).scan(truth.path, info, plan_for(info))
    exact = KeyframeShotDetector(refine_budget=1.0, coarse=False).scan(
        truth.path, info, plan_for(info)
    )
    assert within_a_frame(
        frame_numbers(coarse.shots.cuts_s, truth.fps), frame_numbers(exact.shots.cuts_s, truth.fps)
    )
    # The same transitions, measured within the spacing of I- and P-frames.
    assert [t.kind for t in coarse.shots.transitions] == [t.kind for t in exact.shots.transitions]
    for a, b in zip(coarse.shots.transitions, exact.shots.transitions, strict=True):
        assert abs(a.start_s - b.start_s) <= 4 / truth.fps
        assert abs(a.end_s - b.end_s) <= 4 / truth.fps
    if which == "fixed_gop_film":
        # Every cut of this film lies inside a GOP: the coarse look finds each within a few
        # frames, and the intervals holding them are decoded again to place them exactly.
        assert "the coarse look cannot place changes" in caplog.text
    else:
        assert coarse.frames_decoded < exact.frames_decoded


def test_the_coarse_look_keeps_every_cut_of_a_real_clip(clip_path: Callable[[str], Path]) -> None:
    # Riders racing past the camera: fast motion between I- and P-frames four apart, and a
    # cut at an on-grid keyframe; every frame decoded is the reference.
    path = clip_path("bikes.mp4")
    info = probe(path)
    every = FrameShotDetector().scan(path, info, plan_for(info))
    keyframes = KeyframeShotDetector().scan(path, info, plan_for(info))
    assert keyframes.detector == "keyframes"
    assert frame_numbers(keyframes.shots.cuts_s, info.fps) == frame_numbers(
        every.shots.cuts_s, info.fps
    )
    assert keyframes.frames_decoded < every.frames_decoded / 3


def test_the_coarse_look_is_charged_what_it_costs(
    fixed_gop_film: FilmTruth, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A budget that pays for some of this film's intervals decoded exactly pays for more
    # looked at coarsely first, and the cuts found are still the planted ones.
    film = fixed_gop_film
    monkeypatch.setattr(keyframe_detector, "MIN_REFINE_S", 0.0)
    info = probe(film.path)
    coarse = KeyframeShotDetector(refine_budget=0.1).scan(film.path, info, plan_for(info))
    exact = KeyframeShotDetector(refine_budget=0.1, coarse=False).scan(
        film.path, info, plan_for(info)
    )
    assert len(coarse.shots.approximate_s) < len(exact.shots.approximate_s)
    _assert_all_planted(coarse, film)


def test_what_settling_saves_pays_for_more_intervals(
    fixed_gop_film: FilmTruth, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every cut of this film lies inside a GOP: an interval to decode each. Budgets below what
    # they would all take whole.
    film = fixed_gop_film
    monkeypatch.setattr(keyframe_detector, "MIN_REFINE_S", 0.0)
    info = probe(film.path)
    fewer = []
    for budget in (0.04, 0.08, 0.12, 0.16, 0.2):
        rounds = KeyframeShotDetector(refine_budget=budget).scan(film.path, info, plan_for(info))
        whole = KeyframeShotDetector(refine_budget=budget, settle=False).scan(
            film.path, info, plan_for(info)
        )
        # Never fewer intervals refined than when each is charged whole.
        assert set(rounds.shots.approximate_s) <= set(whole.shots.approximate_s)
        fewer.append(len(rounds.shots.approximate_s) < len(whole.shots.approximate_s))
        # What is refined is right: every cut found is a planted one.
        _assert_all_planted(rounds, film)
    assert any(fewer), "settling never paid for another interval"


def test_keyframes_decode_a_fraction_when_the_encoder_marks_cuts(film: FilmTruth) -> None:
    info = probe(film.path)
    scan = KeyframeShotDetector().scan(film.path, info, plan_for(info))
    assert scan.frames_decoded < film.frame_count / 2


def test_keyframes_fall_back_to_every_frame_when_keyframes_are_sparse(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # One shot of 3 s: x264 writes a single keyframe.
    truth = write_synthetic_video(tmp_path / "one.mp4", plan=[Segment("shot", 3.0)])
    info = probe(truth.path)
    with caplog.at_level(logging.INFO, logger="artwork.video.keyframe_detector"):
        scan = KeyframeShotDetector().scan(truth.path, info, plan_for(info))
    assert scan.detector == "frames"
    assert "decoding every frame instead" in caplog.text
    assert scan.frames_decoded == truth.frame_count


def test_a_zero_refine_budget_keeps_keyframe_boundaries(synthetic: SyntheticTruth) -> None:
    info = probe(synthetic.path)
    scan = KeyframeShotDetector(refine_budget=0.0).scan(synthetic.path, info, plan_for(info))
    keyframes = {0, 65, 105, 135, 210}  # where x264 put this video's keyframes
    assert set(frame_numbers(scan.shots.cuts_s, synthetic.fps)) <= keyframes
    approximate = set(frame_numbers(scan.shots.approximate_s, synthetic.fps))
    assert approximate and approximate <= keyframes
    assert scan.shots.transitions == ()
    assert len(scan.shots.shots) == len(scan.shots.cuts_s) + len(approximate) + 1
    with pytest.raises(ValueError, match="refine_budget must be in"):
        KeyframeShotDetector(refine_budget=2.0)


# --- the registry ------------------------------------------------------------------------------
def _info(seconds: float, width: int, height: int) -> VideoInfo:
    return VideoInfo(Path("x.mp4"), seconds, 24.0, width, height, "h264")


@pytest.mark.parametrize(
    ("seconds", "size", "expected"),
    [
        (10.0, (1920, 1080), "frames"),
        (31.0, (1920, 1080), "keyframes"),
        (60.0, (1280, 720), "frames"),
        (600.0, (640, 360), "keyframes"),
        (200.0, (640, 360), "frames"),
    ],
)
def test_auto_decodes_every_frame_only_when_cheap(
    seconds: float, size: tuple[int, int], expected: str
) -> None:
    info = _info(seconds, *size)
    assert shot_detector_name_for(Settings(), info) == expected
    assert create_shot_detector(Settings(), info).name == expected


def test_the_registry_names_its_detectors() -> None:
    assert set(SHOT_DETECTORS) == {"frames", "keyframes"}
    info = _info(10.0, 320, 180)
    assert isinstance(
        create_shot_detector(Settings(shot_detector="keyframes"), info), KeyframeShotDetector
    )
    assert isinstance(
        create_shot_detector(Settings(shot_detector="frames"), info), FrameShotDetector
    )
    limited = Settings(shot_detector="keyframes", shot_refine_budget=0.25)
    detector = create_shot_detector(limited, info)
    assert isinstance(detector, KeyframeShotDetector) and detector.refine_budget == 0.25
