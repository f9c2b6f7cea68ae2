from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from artwork.errors import ChecksumMismatchError, ModelError
from artwork.ranking.artifacts import MANIFEST, ArtifactReloader, ArtifactStore, ranking_dir
from artwork.ranking.config import RankingConfig
from artwork.ranking.data import RankingData
from artwork.ranking.model import RankingModel
from artwork.ranking.page import PageBuilder
from artwork.ranking.page_model import FEATURE_NAMES, PageModel


@pytest.fixture
def model(taste_data: RankingData) -> RankingModel:
    fitted = RankingModel.fit(taste_data, RankingConfig(ease_l2=5.0, similar_titles=4))
    fitted.page_model = PageModel(FEATURE_NAMES, np.linspace(-1, 1, len(FEATURE_NAMES)), -1.0)
    return fitted


def test_save_and_load_serve_the_same_pages(
    model: RankingModel, taste_data: RankingData, tmp_path: Path
) -> None:
    store = ArtifactStore(tmp_path / "ranking")
    assert store.latest() is None
    info = store.save(model, extra={"interactions": 61})
    assert info.version == 1 and store.versions() == [1]
    manifest = json.loads((info.path / MANIFEST).read_text())
    assert manifest["version"] == 1 and manifest["interactions"] == 61
    assert manifest["config"]["ease_l2"] == 5.0
    assert set(manifest["files"]) == {"arrays.npz", "titles.json", "page_model.json"}
    assert all(len(digest) == 64 for digest in manifest["files"].values())

    loaded, loaded_info = store.load()
    assert loaded_info.version == 1
    assert loaded.index.title_ids == model.index.title_ids
    assert loaded.config == model.config
    assert loaded.page_model is not None
    assert np.allclose(loaded.page_model.coef, model.page_model.coef)  # type: ignore[union-attr]
    fresh, served = PageBuilder(config=model.config).use(model), PageBuilder().use(loaded)
    for user in ("x0", "s3", "d1", "nobody"):
        member = taste_data.member(user)
        for selector in ("row_ranking", "stagewise", "learned"):
            assert served.build(member, selector) == fresh.build(member, selector)
    assert served.titles["space-1"].name == "Space One"


def test_versions_increase_and_old_ones_are_pruned(model: RankingModel, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path, keep=2)
    versions = [store.save(model).version for _ in range(4)]
    assert versions == [1, 2, 3, 4]
    assert store.versions() == [3, 4]
    assert store.latest() == 4
    # No temporary folders are left behind, and stray folders are not versions.
    (tmp_path / "notes").mkdir()
    (tmp_path / "000009").mkdir()  # no manifest: an interrupted copy, not a version
    assert sorted(p.name for p in tmp_path.iterdir()) == ["000003", "000004", "000009", "notes"]
    assert store.latest() == 4


def test_a_tampered_file_is_refused(model: RankingModel, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    info = store.save(model)
    with (info.path / "titles.json").open("a") as handle:
        handle.write(" ")
    with pytest.raises(ChecksumMismatchError, match=r"titles\.json"):
        store.load()


def test_missing_or_foreign_versions_are_model_errors(model: RankingModel, tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    with pytest.raises(ModelError, match="artwork ranking train"):
        store.load()
    info = store.save(model)
    manifest = json.loads((info.path / MANIFEST).read_text())
    manifest["format"] = 99
    (info.path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="format"):
        store.load()
    with pytest.raises(ValueError, match="keep"):
        ArtifactStore(tmp_path, keep=0)


def test_ranking_dir_follows_settings(tmp_path: Path) -> None:
    from artwork.config import Settings

    assert ranking_dir(Settings(home=tmp_path)) == tmp_path / "ranking"
    assert ranking_dir(Settings(home=tmp_path, ranking_dir=tmp_path / "r")) == tmp_path / "r"


class _SlowListing(ArtifactStore):
    """A store whose version listing takes a while (a network file system), so callers
    arrive while the first one is still looking."""

    def latest(self) -> int | None:
        time.sleep(0.2)
        return super().latest()


def test_concurrent_first_callers_all_wait_for_the_first_load(
    model: RankingModel, tmp_path: Path
) -> None:
    ArtifactStore(tmp_path / "ranking").save(model)
    builds: list[int] = []

    def build(loaded: RankingModel) -> str:
        builds.append(1)
        time.sleep(0.3)
        return "builder"

    reloader = ArtifactReloader(_SlowListing(tmp_path / "ranking"), build, reload_s=60.0)
    callers = 8
    barrier = threading.Barrier(callers)

    def first_page() -> object:
        barrier.wait()
        return reloader.current()

    with ThreadPoolExecutor(callers) as pool:
        served = list(pool.map(lambda _: first_page(), range(callers)))
    # None would send a caller to fit a ranking of its own on the request path.
    assert served == [("builder", 1)] * callers
    assert builds == [1]
