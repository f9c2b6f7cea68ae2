"""A fitted gradient-boosted tree ensemble as plain arrays, and its prediction in numpy.

Ranking artifacts hold no pickles (``np.load(allow_pickle=False)``), and serving scores a
few hundred candidates per request, where scikit-learn's per-call overhead dominates. So the
trees of a fitted ``HistGradientBoostingClassifier`` (numeric features, binary log-loss) are
copied into padded arrays, one row per tree, and evaluated for every sample and tree at
once, one tree level per step. The raw score is the classifier's ``decision_function``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, eq=False)
class TreeEnsemble:
    """Trees as arrays of shape (trees, nodes), padded with leaves of value 0.

    Attributes:
        feature: the feature each node splits on.
        threshold: a sample goes left when its feature is <= this.
        left: left child index.
        right: right child index.
        missing_left: where a NaN goes (left when true).
        leaf: whether the node is a leaf.
        value: the leaf's contribution.
        baseline: the raw score before any tree.
        depth: the deepest leaf's depth.
    """

    feature: NDArray[np.int32]
    threshold: NDArray[np.float64]
    left: NDArray[np.int32]
    right: NDArray[np.int32]
    missing_left: NDArray[np.bool_]
    leaf: NDArray[np.bool_]
    value: NDArray[np.float64]
    baseline: float
    depth: int

    @classmethod
    def from_sklearn(cls, model: Any) -> TreeEnsemble:
        """The trees of a fitted binary ``HistGradientBoostingClassifier`` (or regressor)
        over numeric features.

        Raises:
            ValueError: the model is not fitted, has several outputs or categorical splits.
        """
        predictors = getattr(model, "_predictors", None)
        if not predictors:
            raise ValueError("the model is not fitted")
        if any(len(per_iteration) != 1 for per_iteration in predictors):
            raise ValueError("only single-output (binary or regression) models are supported")
        trees = [per_iteration[0].nodes for per_iteration in predictors]
        if any(np.any(nodes["is_categorical"]) for nodes in trees):
            raise ValueError("categorical splits are not supported")
        width = max(len(nodes) for nodes in trees)
        shape = (len(trees), width)
        feature = np.zeros(shape, dtype=np.int32)
        threshold = np.zeros(shape)
        left = np.zeros(shape, dtype=np.int32)
        right = np.zeros(shape, dtype=np.int32)
        missing_left = np.zeros(shape, dtype=bool)
        leaf = np.ones(shape, dtype=bool)
        value = np.zeros(shape)
        depth = 0
        for t, nodes in enumerate(trees):
            n = len(nodes)
            feature[t, :n] = nodes["feature_idx"]
            threshold[t, :n] = nodes["num_threshold"]
            left[t, :n] = nodes["left"]
            right[t, :n] = nodes["right"]
            missing_left[t, :n] = nodes["missing_go_to_left"].astype(bool)
            leaf[t, :n] = nodes["is_leaf"].astype(bool)
            value[t, :n] = np.where(leaf[t, :n], nodes["value"], 0.0)
            depth = max(depth, int(nodes["depth"].max(initial=0)))
        baseline = float(np.ravel(model._baseline_prediction)[0])
        return cls(feature, threshold, left, right, missing_left, leaf, value, baseline, depth)

    def predict(self, x: NDArray[np.floating]) -> NDArray[np.float64]:
        """The raw score (log-odds for a classifier) of every row of ``x``."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        n_trees, width = self.feature.shape
        if len(x) == 0 or n_trees == 0:
            return np.full(len(x), self.baseline)
        feature, threshold, children, missing_right = self._flat
        # Flat node ids (tree * width + node), one per sample and tree; leaves loop to
        # themselves, so every sample takes the same number of steps. A node's children sit
        # at 2 * node (left) and 2 * node + 1 (right).
        node = np.broadcast_to(np.arange(n_trees, dtype=np.int32) * width, (len(x), n_trees))
        base = (np.arange(len(x), dtype=np.int32) * x.shape[1])[:, None]
        flat_x = x.ravel()
        has_nan = bool(np.isnan(flat_x).any())
        for _ in range(self.depth):
            data = flat_x[base + feature[node]]
            right = data > threshold[node]
            if has_nan:
                nan = np.isnan(data)
                right = np.where(nan, missing_right[node], right)
            node = children[2 * node + right]
        return self.baseline + self._flat_value[node].sum(axis=1)

    @cached_property
    def _flat(
        self,
    ) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.int32], NDArray[np.bool_]]:
        n_trees, width = self.feature.shape
        offset = (np.arange(n_trees, dtype=np.int32) * width)[:, None]
        own = offset + np.arange(width, dtype=np.int32)[None, :]
        left = np.where(self.leaf, own, offset + self.left).ravel()
        right = np.where(self.leaf, own, offset + self.right).ravel()
        children = np.stack([left, right], axis=1).ravel().astype(np.int32)
        feature = np.where(self.leaf, 0, self.feature).ravel().astype(np.int32)
        return feature, self.threshold.ravel(), children, ~self.missing_left.ravel()

    @cached_property
    def _flat_value(self) -> NDArray[np.float64]:
        return self.value.ravel()

    def get_state(self) -> dict[str, NDArray[Any]]:
        """The arrays, to save."""
        return {
            "feature": self.feature,
            "threshold": self.threshold,
            "left": self.left,
            "right": self.right,
            "missing_left": self.missing_left,
            "leaf": self.leaf,
            "value": self.value,
            "baseline": np.array([self.baseline]),
            "depth": np.array([self.depth]),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, NDArray[Any]]) -> TreeEnsemble:
        """Inverse of ``get_state``."""
        return cls(
            np.asarray(state["feature"], dtype=np.int32),
            np.asarray(state["threshold"], dtype=np.float64),
            np.asarray(state["left"], dtype=np.int32),
            np.asarray(state["right"], dtype=np.int32),
            np.asarray(state["missing_left"], dtype=bool),
            np.asarray(state["leaf"], dtype=bool),
            np.asarray(state["value"], dtype=np.float64),
            float(np.asarray(state["baseline"])[0]),
            int(np.asarray(state["depth"])[0]),
        )
