"""Ingestion: variants, their crops and lineage stored; every kind of bad input refused with
nothing half-written; awkward but valid inputs handled; several files, each on its own."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from artwork.candidates.crops import CROP_FORMATS
from artwork.demo.footage import sample_clip
from artwork.domain import VariantStatus
from artwork.errors import (
    InvalidInputError,
    StorageError,
    TitleExistsError,
    VideoError,
)
from artwork.ingest import (
    EarlyScan,
    IngestJob,
    Ingestor,
    ProgressRelay,
    ScanCancelledError,
    title_id_for,
)
from artwork.scoring.base import Embedder
from artwork.scoring.loading import EmbedderLoader
from artwork.testing.keys import api_client
from artwork.testing.synthetic import (
    Segment,
    SyntheticTruth,
    write_audio_only,
    write_synthetic_video,
    write_video_without_frames,
)
from artwork.wiring import Services

PLAN = [Segment("shot", 1.0), Segment("shot", 1.0), Segment("black", 0.4), Segment("shot", 1.0)]


@pytest.fixture
def services(ingesting_services: Services) -> Iterator[Services]:
    """Services with a light extraction: 3 variants from at most 12 frames."""
    ingestor = ingesting_services.ingestor
    ingestor.settings = ingestor.settings.model_copy(
        update={"variants_per_title": 3, "max_sampled_frames": 12}
    )
    yield ingesting_services


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> SyntheticTruth:
    return write_synthetic_video(tmp_path_factory.mktemp("ingest") / "three.mp4", plan=PLAN)


def _media_files(services: Services) -> list[Path]:
    root = services.media.root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _image_size(path: Path) -> tuple[int, int]:
    image = cv2.imread(str(path))
    assert image is not None, path
    return image.shape[1], image.shape[0]


def test_ingest_stores_variants_with_their_crops(services: Services, video: SyntheticTruth) -> None:
    result = services.ingestor.ingest(
        video.path, title_id="three", name=" Three ", genres=["Drama", "drama"]
    )
    assert result.title.name == "Three" and result.title.genres == ("drama",)
    assert result.title.duration_s == pytest.approx(video.duration_s, abs=0.05)
    assert result.detector == "frames" and result.shots == 4
    stored = services.catalog.variants("three")
    assert [v.variant_id for v in stored] == [v.variant_id for v in result.variants]
    assert 1 <= len(stored) <= 3
    for v in stored:
        assert services.media.exists(v.image_path)
        assert (v.width, v.height) == (320, 180)
        assert v.status is VariantStatus.APPROVED  # ARTWORK_AUTO_APPROVE_MIN_SCORE 0 approves
        assert set(v.crops) == set(CROP_FORMATS)
        for name, crop in v.crops.items():
            # The lineage: every crop is named after, and stored under, its variant.
            assert crop.image_path.startswith(f"titles/three/{v.variant_id}-")
            assert crop.format == name
            assert (crop.width, crop.height) == CROP_FORMATS[name]
            assert _image_size(services.media.path(crop.image_path)) == CROP_FORMATS[name]
            x, y, w, h = crop.box
            assert x >= 0 and y >= 0 and x + w <= v.width and y + h <= v.height
            assert abs(w / h - CROP_FORMATS[name][0] / CROP_FORMATS[name][1]) < 0.02
        assert services.catalog.get_variant(v.variant_id).crops == v.crops
    assert len(_media_files(services)) == len(stored) * (1 + len(CROP_FORMATS))


def test_auto_approve_threshold_leaves_variants_proposed(
    services: Services, video: SyntheticTruth
) -> None:
    strict = services.ingestor.settings.model_copy(update={"auto_approve_min_score": 2.0})
    services.ingestor.settings = strict
    services.ingestor.ingest(video.path, title_id="b", name="B")
    assert {v.status for v in services.catalog.variants("b")} == {VariantStatus.PROPOSED}


def test_duplicate_title_changes_nothing(services: Services, video: SyntheticTruth) -> None:
    services.ingestor.ingest(video.path, title_id="b", name="B")
    before = _media_files(services)
    with pytest.raises(TitleExistsError):
        services.ingestor.ingest(video.path, title_id="b", name="B")
    assert _media_files(services) == before


def test_replace_swaps_images_and_crops(services: Services, video: SyntheticTruth) -> None:
    first = services.ingestor.ingest(video.path, title_id="b", name="B")
    second = services.ingestor.ingest(video.path, title_id="b", name="B2", replace=True)
    assert services.catalog.get_title("b").name == "B2"
    assert {v.variant_id for v in first.variants}.isdisjoint(v.variant_id for v in second.variants)
    assert len(_media_files(services)) == len(second.variants) * (1 + len(CROP_FORMATS))
    for path in services.catalog.delete_title("b"):
        services.media.delete(path)
    assert _media_files(services) == []


def test_database_failure_removes_written_images_and_crops(
    services: Services, video: SyntheticTruth, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> list[str]:
        raise StorageError("database is gone")

    monkeypatch.setattr(services.catalog, "add_title", broken)
    with pytest.raises(StorageError):
        services.ingestor.ingest(video.path, title_id="b", name="B")
    assert _media_files(services) == []


# --- bad input ---------------------------------------------------------------------------------
def _missing(tmp_path: Path, _video: SyntheticTruth) -> Path:
    return tmp_path / "absent.mp4"


def _zero_bytes(tmp_path: Path, _video: SyntheticTruth) -> Path:
    path = tmp_path / "empty.mp4"
    path.touch()
    return path


def _text(tmp_path: Path, _video: SyntheticTruth) -> Path:
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 40)
    return path


def _audio_only(tmp_path: Path, _video: SyntheticTruth) -> Path:
    return write_audio_only(tmp_path / "song.m4a")


def _zero_length_mp4(tmp_path: Path, _video: SyntheticTruth) -> Path:
    return write_video_without_frames(tmp_path / "nothing.mp4")


def _zero_length_mkv(tmp_path: Path, _video: SyntheticTruth) -> Path:
    return write_video_without_frames(tmp_path / "nothing.mkv")


def _truncated(tmp_path: Path, video: SyntheticTruth) -> Path:
    """The first 60% of an MP4 whose index (moov) comes last: the index is lost."""
    path = tmp_path / "truncated.mp4"
    data = video.path.read_bytes()
    path.write_bytes(data[: len(data) * 6 // 10])
    return path


def _corrupt(tmp_path: Path, video: SyntheticTruth) -> Path:
    """A valid container whose video payload is all zeros: nothing decodes."""
    data = bytearray(video.path.read_bytes())
    at = data.find(b"mdat")
    size = int.from_bytes(data[at - 4 : at], "big")
    data[at + 4 : at - 4 + size] = bytes(size - 8)
    path = tmp_path / "zeros.mp4"
    path.write_bytes(bytes(data))
    return path


BAD_INPUTS: dict[str, tuple[Callable[[Path, SyntheticTruth], Path], str]] = {
    "missing": (_missing, "no such file"),
    "zero bytes": (_zero_bytes, "empty"),
    "text named .mp4": (_text, "not a video"),
    "audio only": (_audio_only, "no video stream"),
    "zero-length video (mp4)": (_zero_length_mp4, "no video stream"),
    "zero-length video (mkv)": (_zero_length_mkv, "not a video FFmpeg can read"),
    "truncated": (_truncated, "truncated"),
    "corrupt": (_corrupt, "no decodable frames"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_refused_with_nothing_written(
    services: Services, video: SyntheticTruth, tmp_path: Path, case: str
) -> None:
    make, expected = BAD_INPUTS[case]
    path = make(tmp_path, video)
    with pytest.raises(VideoError, match=expected) as raised:
        services.ingestor.ingest(path, title_id="x", name="X")
    assert "\n" not in raised.value.message and ";" in raised.value.message
    assert services.catalog.count_titles() == 0 and _media_files(services) == []


def test_bad_title_or_name_is_refused_before_any_work(
    services: Services, video: SyntheticTruth
) -> None:
    with pytest.raises(InvalidInputError, match="title id"):
        services.ingestor.ingest(video.path, title_id="a/b", name="X")
    with pytest.raises(InvalidInputError, match="name"):
        services.ingestor.ingest(video.path, title_id="ok", name="  ")
    assert services.catalog.count_titles() == 0 and _media_files(services) == []


# --- awkward but valid input -------------------------------------------------------------------
def _remux_truncated_ts(tmp_path: Path, video: SyntheticTruth) -> Path:
    """An MPEG-TS copy cut off at 70%: no index to lose, the first part still plays."""
    ts = tmp_path / "whole.ts"
    with av.open(str(video.path)) as source, av.open(str(ts), "w", format="mpegts") as out:
        stream = source.streams.video[0]
        target = out.add_stream_from_template(stream)
        for packet in source.demux(stream):
            if packet.dts is not None:
                packet.stream = target
                out.mux(packet)
    cut = tmp_path / "cut.ts"
    data = ts.read_bytes()
    cut.write_bytes(data[: len(data) * 7 // 10])
    return cut


@pytest.mark.parametrize(
    ("case", "size"),
    [
        ("variable frame rate", (320, 180)),
        ("rotated 90 (phone)", (180, 320)),
        ("portrait", (180, 320)),
        ("under one second", (320, 180)),
        ("truncated stream", (320, 180)),
    ],
)
def test_awkward_videos_are_handled(
    services: Services, video: SyntheticTruth, tmp_path: Path, case: str, size: tuple[int, int]
) -> None:
    if case == "variable frame rate":
        path = write_synthetic_video(tmp_path / "vfr.mp4", plan=PLAN, variable_frame_rate=True).path
    elif case == "rotated 90 (phone)":
        path = write_synthetic_video(tmp_path / "rotated.mp4", plan=PLAN, rotation=90).path
    elif case == "portrait":
        path = write_synthetic_video(tmp_path / "tall.mp4", plan=PLAN, width=180, height=320).path
    elif case == "under one second":
        plan = [Segment("shot", 0.4), Segment("shot", 0.4)]
        path = write_synthetic_video(tmp_path / "short.mp4", plan=plan).path
    else:
        path = _remux_truncated_ts(tmp_path, video)
    result = services.ingestor.ingest(path, title_id="awkward", name="Awkward")
    assert result.variants
    for v in result.variants:
        assert (v.width, v.height) == size
        assert _image_size(services.media.path(v.image_path)) == size
        assert 0 <= v.frame_time_s <= (result.title.duration_s or 0.0)
        assert set(v.crops) == set(CROP_FORMATS)
        for name, crop in v.crops.items():
            assert _image_size(services.media.path(crop.image_path)) == CROP_FORMATS[name]


# --- several files -----------------------------------------------------------------------------
def test_title_ids_and_names_default_to_the_file_name() -> None:
    assert title_id_for(Path("/x/Big Buck Bunny (2008).mp4")) == "big-buck-bunny-2008"
    assert title_id_for(Path("clip_01.v2.MOV")) == "clip_01.v2"
    with pytest.raises(InvalidInputError, match="pass --title-id"):
        title_id_for(Path("¿¿¿.mp4"))
    job = IngestJob.for_file(Path("/x/My Film.mkv"), genres=["drama"])
    assert (job.title_id, job.name, job.genres) == ("my-film", "My Film", ("drama",))
    named = IngestJob.for_file(Path("/x/a.mp4"), title_id="t", name="T")
    assert (named.title_id, named.name) == ("t", "T")


def test_ingest_all_stores_each_file_on_its_own(
    services: Services, video: SyntheticTruth, tmp_path: Path
) -> None:
    other = write_synthetic_video(tmp_path / "Other One.mp4", plan=PLAN, seed=3).path
    broken = _text(tmp_path, video)
    jobs = [IngestJob.for_file(p) for p in (video.path, broken, other)]
    seen: list[str] = []
    outcomes = list(
        services.ingestor.ingest_all(
            jobs, progress=lambda job: lambda done, total: seen.append(job.title_id)
        )
    )
    assert [o.job.title_id for o in outcomes] == ["three", "notes", "other-one"]
    assert [o.result is not None for o in outcomes] == [True, False, True]
    assert isinstance(outcomes[1].error, VideoError)
    assert {t.title_id for t in services.catalog.list_titles()} == {"three", "other-one"}
    assert {"three", "other-one"} <= set(seen)


def test_a_batch_pipelines_files_and_checks_ids_again_before_storing(
    services: Services, video: SyntheticTruth, tmp_path: Path
) -> None:
    twin = tmp_path / "twin"
    twin.mkdir()
    same_id = twin / video.path.name
    same_id.symlink_to(video.path)
    jobs = [IngestJob.for_file(p) for p in (video.path, same_id)]
    outcomes = list(services.ingestor.ingest_all(jobs))
    assert outcomes[0].result is not None
    assert isinstance(outcomes[1].error, TitleExistsError)  # the scan ran before the store
    assert [t.title_id for t in services.catalog.list_titles()] == ["three"]
    assert list(services.ingestor.ingest_all([])) == []


def _early(services: Services, embedder: Embedder, path: Path) -> tuple[EarlyScan, Ingestor]:
    settings = services.ingestor.settings
    early = EarlyScan(path, settings, EmbedderLoader(lambda _settings: embedder, settings))
    ingestor = Ingestor(
        services.catalog, services.media, settings, lambda _s: embedder, loader=early.loader
    )
    return early, ingestor


def test_an_early_scan_becomes_the_first_jobs_scan(
    services: Services, embedder: Embedder, video: SyntheticTruth, tmp_path: Path
) -> None:
    other = write_synthetic_video(tmp_path / "other.mp4", plan=PLAN, seed=3).path
    early, ingestor = _early(services, embedder, video.path)
    jobs = [IngestJob.for_file(p) for p in (video.path, other)]
    reports: list[tuple[str, int]] = []
    outcomes = list(
        ingestor.ingest_all(
            jobs,
            progress=lambda job: lambda done, _total: reports.append((job.title_id, done)),
            early=early,
        )
    )
    assert [o.result is not None for o in outcomes] == [True, True]
    assert early.scan.done()
    early.close()  # done already: returns at once
    first = outcomes[0].result
    assert first is not None
    # The same extraction as an ingest that starts its own scan.
    again = services.ingestor.ingest(video.path, title_id="again", name="again")
    assert [v.frame_time_s for v in first.variants] == [v.frame_time_s for v in again.variants]
    assert (first.shots, first.frames_decoded) == (again.shots, again.frames_decoded)
    assert ("three", 100) in reports and ("other", 100) in reports


def test_a_cancelled_relay_stops_its_scan_at_the_next_report() -> None:
    relay = ProgressRelay()
    relay(10, 100)  # no receiver yet: dropped
    seen: list[int] = []
    relay.target = lambda done, _total: seen.append(done)
    relay(20, 100)
    relay.cancel()
    with pytest.raises(ScanCancelledError):
        relay(30, 100)
    assert seen == [20]


def test_an_early_scan_of_a_refused_title_is_cancelled(
    services: Services, embedder: Embedder, video: SyntheticTruth
) -> None:
    services.ingestor.ingest(video.path, title_id="three", name="three")
    early, ingestor = _early(services, embedder, video.path)
    (outcome,) = ingestor.ingest_all([IngestJob.for_file(video.path)], early=early)
    assert isinstance(outcome.error, TitleExistsError)
    early.close()  # cancelled at its next report (or done); nothing left running
    with contextlib.suppress(ScanCancelledError):
        early.scan.result(timeout=0)
    assert not early.loader.ready  # a refused title loads no model
    with pytest.raises(ValueError, match="first job"):
        list(ingestor.ingest_all([IngestJob.for_file(Path("/elsewhere.mp4"))], early=early))


@pytest.mark.slow
def test_real_footage_is_ingested(services: Services) -> None:
    services.ingestor.settings = services.ingestor.settings.model_copy(
        update={"variants_per_title": 5, "max_sampled_frames": 240}
    )
    result = services.ingestor.ingest(sample_clip("bikes.mp4"), title_id="bikes", name="Bikes")
    assert len(result.variants) == 5
    assert all((v.width, v.height) == (640, 272) for v in result.variants)
    assert np.all([set(v.crops) == set(CROP_FORMATS) for v in result.variants])


def test_the_api_serves_the_crops(services: Services, video: SyntheticTruth) -> None:

    services.ingestor.ingest(video.path, title_id="three", name="Three")
    with api_client(services) as client:
        detail = client.get("/v1/titles/three").json()
        for variant in detail["variants"]:
            assert set(variant["crops"]) == set(CROP_FORMATS)
            poster = variant["crops"]["2:3"]
            assert (poster["width"], poster["height"]) == CROP_FORMATS["2:3"]
            assert poster["url"].endswith(f"/{variant['variant_id']}-2x3.jpg")
            assert client.get(poster["url"]).status_code == 200
        chosen = client.get("/v1/titles/three/artwork", params={"user_id": "u1", "aspect": "2:3"})
        assert chosen.status_code == 200 and chosen.json()["artwork"]["url"].endswith("-2x3.jpg")
        whole = client.get("/v1/titles/three/artwork", params={"user_id": "u1", "aspect": "4:3"})
        assert whole.status_code == 200 and not whole.json()["artwork"]["url"].endswith("x3.jpg")
        bad = client.get("/v1/titles/three/artwork", params={"user_id": "u1", "aspect": "wide"})
        assert bad.status_code == 422
        page = client.get("/v1/homepage", params={"user_id": "u1", "aspect": "16:9"})
        assert page.status_code == 200
        urls = [item["artwork"]["url"] for row in page.json()["rows"] for item in row["items"]]
        assert urls and all(url.endswith("-16x9.jpg") for url in urls)
