"""EASE (Steck 2019): the closed-form item-item model behind the personalised rankers.

``B = I - P / diag(P)`` with ``P = (X'X + l2 I)^-1``; a member's scores are the sum of ``B``'s
rows for what they watched (optionally weighted). Shared by ``EaseRanker`` and the "Top
picks" ranker, which fits it on recency-weighted plays.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def ease_weights(gram: NDArray[np.float64], l2: float) -> NDArray[np.float32]:
    """EASE's B from the Gram matrix: a Cholesky inverse (half the cost of ``inv``)."""
    from scipy.linalg import lapack

    n = gram.shape[0]
    if n == 0:
        return np.zeros((0, 0), dtype=np.float32)
    gram = np.asfortranarray(gram, dtype=np.float64)
    gram[np.diag_indices(n)] += l2
    factor, info = lapack.dpotrf(gram, lower=False, overwrite_a=True, clean=True)
    if info != 0:
        raise ValueError(f"the regularised Gram matrix is not positive definite (info={info})")
    inverse, info = lapack.dpotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise ValueError(f"cannot invert the regularised Gram matrix (info={info})")
    upper = np.triu(inverse)
    precision = upper + np.triu(upper, 1).T
    weights = precision / -np.diag(precision)[None, :]
    weights[np.diag_indices(n)] = 0.0
    return weights.astype(np.float32)
