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


@dataclass(frozen=True, slots=True)
class _Layout:
    """Nodes of every tree in one numbering; a node's right child follows its left one."""

    roots: NDArray[np.intp]
    feature: NDArray[np.intp]
    threshold: NDArray[np.float64]
    missing_right: NDArray[np.bool_]
    first_child: NDArray[np.intp]
    value: NDArray[np.float64]


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
        if len(x) == 0 or self.feature.shape[0] == 0:
            return np.full(len(x), self.baseline)
        layout = self._layout
        n_trees = len(layout.roots)
        # One node id per sample and tree (sample-major); leaves loop to themselves, so every
        # sample takes the same number of steps. A node's children sit side by side, so a
        # step is its first child plus whether the sample goes right. ``take`` on flat arrays
        # costs about half of fancy indexing on arrays of this size.
        node = np.tile(layout.roots, len(x))
        base = np.repeat(np.arange(len(x), dtype=np.intp) * x.shape[1], n_trees)
        flat_x = x.ravel()
        has_nan = bool(np.isnan(flat_x).any())
        for _ in range(self.depth):
            data = flat_x.take(base + layout.feature.take(node))
            right = data > layout.threshold.take(node)
            if has_nan:
                right = np.where(np.isnan(data), layout.missing_right.take(node), right)
            node = layout.first_child.take(node) + right
        scores: NDArray[np.float64] = layout.value.take(node).reshape(len(x), n_trees).sum(axis=1)
        return self.baseline + scores

    @cached_property
    def _layout(self) -> _Layout:
        """The trees' reachable nodes, breadth first, in one flat numbering."""
        feature: list[int] = []
        threshold: list[float] = []
        missing_right: list[bool] = []
        first_child: list[int] = []
        value: list[float] = []
        roots: list[int] = []
        for t in range(self.feature.shape[0]):
            leaf, left, right = self.leaf[t], self.left[t], self.right[t]
            offset = len(feature)
            roots.append(offset)
            order = [0]  # the tree's nodes, breadth first; a node's children are appended together
            for node in order:
                if not leaf[node]:
                    order += [int(left[node]), int(right[node])]
            position = {node: offset + i for i, node in enumerate(order)}
            for node in order:
                if leaf[node]:
                    # Never goes right (nothing is > inf, and NaN goes "left"): stays put.
                    feature.append(0)
                    threshold.append(np.inf)
                    missing_right.append(False)
                    first_child.append(position[node])
                    value.append(float(self.value[t, node]))
                else:
                    feature.append(int(self.feature[t, node]))
                    threshold.append(float(self.threshold[t, node]))
                    missing_right.append(not self.missing_left[t, node])
                    first_child.append(position[int(left[node])])
                    value.append(0.0)
        return _Layout(
            np.array(roots, dtype=np.intp),
            np.array(feature, dtype=np.intp),
            np.array(threshold, dtype=np.float64),
            np.array(missing_right, dtype=bool),
            np.array(first_child, dtype=np.intp),
            np.array(value, dtype=np.float64),
        )

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
