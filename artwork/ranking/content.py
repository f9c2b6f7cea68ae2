"""Content vectors of titles, from the artwork extractor's embeddings.

A title's variants carry L2-normalised embeddings of its frames; the title's content vector is
their mean, L2-normalised again. Serving scores every title against a member's profile on each
request, so wide embeddings (1,280-d MobileNetV2, 512-d CLIP) are projected onto their leading
singular directions first: dot products are kept as well as a linear map of that width can.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

#: Width content vectors are reduced to for serving.
MAX_CONTENT_DIMS = 64


def title_vectors(embeddings: Mapping[str, Sequence[NDArray[np.floating]]]) -> dict[str, NDArray]:
    """Per title, the L2-normalised mean of its variants' L2-normalised embeddings.

    Variants whose width differs from the most common one (another embedder) are ignored, and
    so are titles left with none.
    """
    widths = Counter(len(e) for vectors in embeddings.values() for e in vectors)
    if not widths:
        return {}
    width = widths.most_common(1)[0][0]
    result: dict[str, NDArray] = {}
    for title_id, vectors in embeddings.items():
        usable = [np.asarray(e, dtype=np.float64) for e in vectors if len(e) == width]
        if not usable:
            continue
        stacked = np.stack(usable)
        norms = np.linalg.norm(stacked, axis=1, keepdims=True)
        mean = (stacked / np.where(norms > 0, norms, 1.0)).mean(axis=0)
        length = float(np.linalg.norm(mean))
        if length > 0:
            result[title_id] = (mean / length).astype(np.float32)
    return result


def content_matrix(
    title_ids: Sequence[str],
    vectors: Mapping[str, NDArray[np.floating]],
    max_dims: int = MAX_CONTENT_DIMS,
    seed: int = 0,
) -> NDArray[np.float32]:
    """One L2-normalised row per title (zeros where a title has no vector), at most
    ``max_dims`` wide.

    Args:
        title_ids: the title index, in order.
        vectors: content vectors by title id; widths other than the most common are ignored.
        max_dims: wider vectors are projected onto this many leading singular directions.
        seed: seed of the randomised SVD.

    Raises:
        ValueError: ``max_dims`` < 1.
    """
    if max_dims < 1:
        raise ValueError(f"max_dims must be >= 1, got {max_dims}")
    widths = Counter(len(vectors[t]) for t in title_ids if t in vectors)
    if not widths:
        return np.zeros((len(title_ids), 0), dtype=np.float32)
    width = widths.most_common(1)[0][0]
    rows = [i for i, t in enumerate(title_ids) if t in vectors and len(vectors[t]) == width]
    dense = np.stack([np.asarray(vectors[title_ids[i]], dtype=np.float32) for i in rows])
    if width > max_dims and len(rows) > max_dims:
        from sklearn.utils.extmath import randomized_svd

        _, _, components = randomized_svd(dense, n_components=max_dims, random_state=seed)
        dense = (dense @ components.T).astype(np.float32)
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    dense = (dense / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    matrix = np.zeros((len(title_ids), dense.shape[1]), dtype=np.float32)
    matrix[rows] = dense
    return matrix


def profile(content: NDArray[np.float32], titles: NDArray[np.integer]) -> NDArray[np.float32]:
    """A member's content profile: the normalised mean content vector of ``titles``
    (zeros when none of them has content)."""
    if content.shape[1] == 0 or len(titles) == 0:
        return np.zeros(content.shape[1], dtype=np.float32)
    mean = content[titles].mean(axis=0)
    length = float(np.linalg.norm(mean))
    return (mean / length).astype(np.float32) if length > 0 else mean.astype(np.float32)
