"""Small real catalogue entries for tests: a title with variants whose images are tiny JPEGs.

For tests of serving, ranking and the bandit that do not need the extractor; use
``artwork.testing.synthetic`` and the ingest path where extraction itself is under test.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import cv2
import numpy as np

from artwork.catalog.media import MediaStore
from artwork.catalog.repository import Catalog
from artwork.domain import Title, Variant, VariantStatus


def seed_title(
    catalog: Catalog,
    media: MediaStore,
    title_id: str,
    *,
    name: str | None = None,
    genres: Sequence[str] = ("drama",),
    variants: int = 3,
    duration_s: float = 60.0,
    status: VariantStatus = VariantStatus.APPROVED,
    seed: int = 0,
) -> list[Variant]:
    """Store ``title_id`` with ``variants`` variants (solid-colour 64x36 JPEGs) and return them."""
    rng = np.random.default_rng(seed)
    built = []
    for rank in range(variants):
        variant_id = uuid.uuid4().hex[:16]
        relative = f"titles/{title_id}/{variant_id}.jpg"
        image = np.zeros((36, 64, 3), dtype=np.uint8)
        image[:] = rng.integers(0, 256, size=3, dtype=np.uint8)
        ok, encoded = cv2.imencode(".jpg", image)
        assert ok
        media.write(relative, encoded.tobytes())
        embedding = rng.normal(size=8).astype(np.float32)
        built.append(
            Variant(
                variant_id=variant_id,
                title_id=title_id,
                rank=rank,
                frame_time_s=float(rank),
                score=float(1.0 - 0.1 * rank),
                scores={"sharpness": float(rng.uniform()), "contrast": float(rng.uniform())},
                tags={},
                embedder="test-fixture",
                image_path=relative,
                width=64,
                height=36,
                status=status,
                explanation="test fixture",
                embedding=embedding / np.linalg.norm(embedding),
            )
        )
    catalog.add_title(Title(title_id, name or title_id.title(), tuple(genres), duration_s), built)
    return built
