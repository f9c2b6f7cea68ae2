from __future__ import annotations

from pathlib import Path

import pytest

from artwork.domain import VariantStatus
from artwork.errors import InvalidInputError, StorageError, TitleExistsError, VideoError
from artwork.services import Services
from artwork.testing.footage import sample_clip


def _media_files(services: Services) -> list[Path]:
    root = services.media.root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_ingest_stores_title_variants_and_images(ingesting_services: Services) -> None:
    services = ingesting_services
    result = services.ingestor.ingest(
        sample_clip("bikes.mp4"), title_id="bikes", name=" Bikes ", genres=["Sports", "sports"]
    )
    assert result.title.name == "Bikes" and result.title.genres == ("sports",)
    assert result.title.duration_s == pytest.approx(10.0, abs=0.5)
    stored = services.catalog.variants("bikes")
    assert [v.variant_id for v in stored] == [v.variant_id for v in result.variants]
    assert len(stored) == services.settings.variants_per_title
    for v in stored:
        assert services.media.exists(v.image_path)
        assert (v.width, v.height) == (640, 272)
        assert v.embedder == result.embedder
        assert v.status is VariantStatus.APPROVED
        assert v.explanation


def test_auto_approve_threshold_leaves_variants_proposed(
    ingesting_services: Services,
) -> None:
    services = ingesting_services
    strict = services.settings.model_copy(update={"auto_approve_min_score": 2.0})
    services.ingestor.settings = strict
    services.ingestor.ingest(sample_clip("bikes.mp4"), title_id="b", name="B")
    assert {v.status for v in services.catalog.variants("b")} == {VariantStatus.PROPOSED}


def test_duplicate_title_changes_nothing(ingesting_services: Services) -> None:
    services = ingesting_services
    services.ingestor.ingest(sample_clip("bikes.mp4"), title_id="b", name="B")
    before = _media_files(services)
    with pytest.raises(TitleExistsError):
        services.ingestor.ingest(sample_clip("bikes.mp4"), title_id="b", name="B")
    assert _media_files(services) == before


def test_replace_swaps_images(ingesting_services: Services) -> None:
    services = ingesting_services
    first = services.ingestor.ingest(sample_clip("bikes.mp4"), title_id="b", name="B")
    second = services.ingestor.ingest(
        sample_clip("bikes.mp4"), title_id="b", name="B2", replace=True
    )
    assert services.catalog.get_title("b").name == "B2"
    assert {v.variant_id for v in first.variants}.isdisjoint(v.variant_id for v in second.variants)
    assert len(_media_files(services)) == len(second.variants)


def test_database_failure_removes_written_images(
    ingesting_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = ingesting_services

    def broken(*_args: object, **_kwargs: object) -> list[str]:
        raise StorageError("database is gone")

    monkeypatch.setattr(services.catalog, "add_title", broken)
    with pytest.raises(StorageError):
        services.ingestor.ingest(sample_clip("bikes.mp4"), title_id="b", name="B")
    assert _media_files(services) == []


def test_bad_input_is_refused_before_anything_is_written(
    ingesting_services: Services, tmp_path: Path
) -> None:
    services = ingesting_services
    text = tmp_path / "x.mp4"
    text.write_text("not a video")
    with pytest.raises(VideoError):
        services.ingestor.ingest(text, title_id="x", name="X")
    with pytest.raises(InvalidInputError, match="title id"):
        services.ingestor.ingest(sample_clip("bikes.mp4"), title_id="a/b", name="X")
    with pytest.raises(InvalidInputError, match="name"):
        services.ingestor.ingest(sample_clip("bikes.mp4"), title_id="ok", name="  ")
    assert services.catalog.count_titles() == 0 and _media_files(services) == []
