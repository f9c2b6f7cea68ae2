"""Versioned ranking artifacts on disk, written atomically, loaded with their checksums checked.

Layout: ``<ranking dir>/<version>/`` (six digits, increasing) holding ``arrays.npz`` (the title
index's content vectors and every ranker's fitted arrays, no pickles), ``titles.json`` (the
title index), ``page_model.json`` (when a page model was fitted) and ``manifest.json`` (format,
version, times, configuration, sizes and the sha256 of every other file). A version is
written into a hidden temporary folder and renamed into place, so a reader sees a complete
version or none; readers pick the highest version. :class:`ArtifactReloader` keeps a serving
process on the newest version, loading new ones in the background.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from artwork.config import Settings
from artwork.errors import ArtworkError, ChecksumMismatchError, ModelError, StorageError
from artwork.ranking.config import RankingConfig
from artwork.ranking.index import TitleIndex
from artwork.ranking.model import RankingModel
from artwork.ranking.page_model import PageModel
from artwork.ranking.registry import make_ranker

_logger = logging.getLogger(__name__)
T = TypeVar("T")

FORMAT = 1
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
TITLES = "titles.json"
PAGE_MODEL = "page_model.json"
#: Versions kept when a new one is saved (older ones are deleted).
KEEP_VERSIONS = 5


def ranking_dir(settings: Settings) -> Path:
    """Where ranking artifacts live: ``ARTWORK_RANKING_DIR`` or ``$ARTWORK_HOME/ranking``."""
    folder = settings.ranking_dir or settings.home / "ranking"
    return folder.expanduser()


@dataclass(frozen=True)
class ArtifactInfo:
    """A saved version: its number, folder and manifest."""

    version: int
    path: Path
    manifest: Mapping[str, Any]


class ArtifactStore:
    """The versions under one folder.

    Args:
        root: the folder (created on first save).
        keep: versions kept after a save; older ones are deleted.

    Raises:
        ValueError: ``keep`` < 1.
    """

    def __init__(self, root: Path, keep: int = KEEP_VERSIONS) -> None:
        if keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")
        self.root = Path(root)
        self.keep = keep

    def versions(self) -> list[int]:
        """Complete versions, oldest first."""
        if not self.root.is_dir():
            return []
        found = []
        for entry in self.root.iterdir():
            if entry.name.isdigit() and (entry / MANIFEST).is_file():
                found.append(int(entry.name))
        return sorted(found)

    def latest(self) -> int | None:
        """The newest complete version, or None."""
        versions = self.versions()
        return versions[-1] if versions else None

    def save(self, model: RankingModel, extra: Mapping[str, Any] | None = None) -> ArtifactInfo:
        """Write ``model`` as the next version.

        Args:
            model: the fitted model.
            extra: more manifest entries (training statistics).

        Raises:
            StorageError: the folder cannot be written.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = self.root / f".tmp-{uuid.uuid4().hex}"
            staging.mkdir()
            try:
                files = self._write_files(staging, model)
                manifest: dict[str, Any] = {
                    "format": FORMAT,
                    "created_at": datetime.now(UTC).isoformat(),
                    "trained_at": model.trained_at.isoformat(),
                    "config": model.config.to_dict(),
                    "rankers": list(model.rankers),
                    "titles": len(model.index),
                    "content_dims": int(model.index.content.shape[1]),
                    "fit_seconds": {k: round(v, 4) for k, v in model.fit_seconds.items()},
                    "page_model": None
                    if model.page_model is None
                    else {
                        "examples": model.page_model.examples,
                        "positives": model.page_model.positives,
                    },
                    "files": files,
                    **(extra or {}),
                }
                info = self._publish(staging, manifest)
            finally:
                if staging.exists():
                    shutil.rmtree(staging, ignore_errors=True)
            self._prune()
            return info
        except OSError as exc:
            raise StorageError(f"cannot write a ranking artifact under {self.root}: {exc}") from exc

    def load(self, version: int | None = None) -> tuple[RankingModel, ArtifactInfo]:
        """Load a version (default: the newest).

        Raises:
            ModelError: there is no such version, or it cannot be read.
            ChecksumMismatchError: a file differs from its manifest's checksum.
        """
        version = self.latest() if version is None else version
        if version is None:
            raise ModelError(
                f"no ranking artifact under {self.root}; train one with `artwork ranking train`"
            )
        path = self.root / f"{version:06d}"
        try:
            manifest = json.loads((path / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read ranking artifact {path}: {exc}") from exc
        if manifest.get("format") != FORMAT:
            raise ModelError(
                f"ranking artifact {path} has format {manifest.get('format')!r}, this version "
                f"reads {FORMAT}; retrain with `artwork ranking train`"
            )
        for name, expected in manifest["files"].items():
            actual = _sha256(path / name)
            if actual != expected:
                raise ChecksumMismatchError(
                    f"{path / name} has sha256 {actual}, its manifest says {expected}; "
                    "retrain with `artwork ranking train`"
                )
        try:
            with np.load(path / ARRAYS, allow_pickle=False) as stored:
                arrays = {key: stored[key] for key in stored.files}
            index = TitleIndex.from_json((path / TITLES).read_text(), arrays["index/content"])
            config = RankingConfig.from_dict(manifest["config"])
            rankers = {}
            for name in manifest["rankers"]:
                ranker = make_ranker(name, config)
                prefix = f"{name}/"
                state = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
                ranker.load_state(index, state)
                rankers[name] = ranker
            page_model = None
            if PAGE_MODEL in manifest["files"]:
                page_model = PageModel.from_json((path / PAGE_MODEL).read_text())
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"cannot load ranking artifact {path}: {exc}") from exc
        model = RankingModel(
            index,
            rankers,
            config,
            datetime.fromisoformat(manifest["trained_at"]),
            page_model,
            dict(manifest.get("fit_seconds", {})),
        )
        return model, ArtifactInfo(version, path, manifest)

    def _write_files(self, folder: Path, model: RankingModel) -> dict[str, str]:
        arrays = {"index/content": model.index.content}
        for name, ranker in model.rankers.items():
            for key, value in ranker.get_state().items():
                arrays[f"{name}/{key}"] = value
        with (folder / ARRAYS).open("wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        _write_text(folder / TITLES, model.index.to_json())
        names = [ARRAYS, TITLES]
        if model.page_model is not None:
            _write_text(folder / PAGE_MODEL, model.page_model.to_json())
            names.append(PAGE_MODEL)
        return {name: _sha256(folder / name) for name in names}

    def _publish(self, staging: Path, manifest: dict[str, Any]) -> ArtifactInfo:
        """Rename ``staging`` to the next free version, retrying if another writer won."""
        for _ in range(100):
            version = (self.latest() or 0) + 1
            manifest["version"] = version
            _write_text(staging / MANIFEST, json.dumps(manifest, indent=1))
            target = self.root / f"{version:06d}"
            try:
                # rename() of a folder onto an existing non-empty folder fails: no clobbering.
                os.rename(staging, target)
            except OSError:
                if target.exists():
                    continue
                raise
            _fsync_dir(self.root)
            return ArtifactInfo(version, target, manifest)
        raise StorageError(f"cannot find a free version number under {self.root}")

    def _prune(self) -> None:
        for version in self.versions()[: -self.keep]:
            shutil.rmtree(self.root / f"{version:06d}", ignore_errors=True)


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ArtifactReloader(Generic[T]):
    """Serves the newest version under a store, loading newer ones in the background.

    ``current()`` returns what to serve now and, at most every ``reload_s``, looks for a
    newer version: the first one is loaded on the caller's thread (nothing else could be
    served meanwhile; concurrent callers wait for that one load), later ones on a thread of
    their own while the old one keeps serving. A version that fails to load is skipped.

    Args:
        store: The versions.
        build: Turns a loaded model into what is served (a page builder).
        reload_s: Seconds between looks for a newer version (0: on every call).
        first_load_wait_s: Longest a caller waits for another caller's first load.
    """

    def __init__(
        self,
        store: ArtifactStore,
        build: Callable[[RankingModel], T],
        *,
        reload_s: float = 10.0,
        first_load_wait_s: float = 120.0,
    ) -> None:
        self.store = store
        self._build = build
        self._reload_s = reload_s
        self._first_wait_s = first_load_wait_s
        self._lock = threading.Lock()
        self._served: tuple[T, int] | None = None
        self._loading: int | None = None
        self._first_load = threading.Event()
        self._failed: set[int] = set()
        self._checked_at = -math.inf

    @property
    def served(self) -> tuple[T, int] | None:
        """What is served now and its version, without looking for a newer one."""
        with self._lock:
            return self._served

    def current(self) -> tuple[T, int] | None:
        """What to serve and its version (None: no loadable version yet)."""
        self.check(wait=False)
        with self._lock:
            served, loading = self._served, self._loading
        if served is None and loading is not None:
            self._first_load.wait(timeout=self._first_wait_s)
            with self._lock:
                served = self._served
        return served

    def refresh(self, wait: bool = False) -> int | None:
        """Look for a newer version now (loading it in the background unless ``wait``).

        Returns:
            The version served once this returns (None: none yet).
        """
        with self._lock:
            self._checked_at = -math.inf
        self.check(wait=wait)
        with self._lock:
            return self._served[1] if self._served is not None else None

    def check(self, wait: bool) -> None:
        """Start loading a newer version if there is one; never blocks once one is served."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < self._reload_s or self._loading is not None:
                return
            self._checked_at = now
            current = self._served[1] if self._served is not None else 0
            # Looked up under the lock (a directory listing, every reload_s at most): a
            # caller arriving meanwhile must find the load begun and wait for the first one,
            # not take "nothing to serve" and fit a ranking of its own on the request path.
            latest = self.store.latest()
            if latest is None or latest <= current or latest in self._failed:
                return
            self._loading = latest
            first = self._served is None
        if wait or first:
            self._load(latest)
        else:
            threading.Thread(
                target=self._load, args=(latest,), name=f"ranking-load-{latest}", daemon=True
            ).start()

    def _load(self, version: int) -> None:
        try:
            model, _ = self.store.load(version)
            built = self._build(model)
        except Exception as exc:  # whatever is wrong with a version, keep serving the last one
            reason = exc.message if isinstance(exc, ArtworkError) else repr(exc)
            _logger.warning("cannot serve ranking artifact %s: %s", version, reason)
            with self._lock:
                self._failed.add(version)
                self._loading = None
            self._first_load.set()
            return
        with self._lock:
            if self._served is None or self._served[1] < version:
                self._served = (built, version)
            self._loading = None
        self._first_load.set()
        _logger.info("serving ranking artifact %s", version)
