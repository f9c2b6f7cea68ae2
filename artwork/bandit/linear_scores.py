"""Action scores of a VW ``cb_adf`` model computed from its weights, a whole page at a time.

VW predicts an action's cost as a dot product: the weights of the action's features, of the
shared features (the same for every action) and of the quadratic interactions between them.
Asking VW title by title costs a parsed example and a ``predict_one`` call per title (about
40 microseconds; a page of 150 titles spends 6 ms there). This module reads the weights array
VW exposes and computes every action of a page in a few vectorised numpy operations:

- a feature's weight index is VW's own (``Workspace.get_index_for_scalar_feature``);
- an interaction ``(a, b)`` of two features has index ``(FNV * index(a)) ^ index(b)`` in
  VW's weight space (``FNV = 16777619``), masked to the table size, valued ``x_a * x_b``;
- terms that are the same for every action (shared features, the constant, interactions of
  two shared namespaces) are left out: they never change which action scores lowest.

So the scores differ from VW's predictions by one constant per request, which is all a greedy
choice needs. Cases outside this (two action namespaces crossed, a namespace letter on both
sides, several models interleaved as in bagging or cover) answer None, and the caller asks VW.
Every policy using this checks its first pages against VW's own choice
(:meth:`artwork.bandit.vw_policy.EpsilonGreedyPolicy.pmf_many`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from artwork.bandit.features import DEFAULT_NAMESPACE, FeatureSpace, escape_feature_name

FNV_PRIME = np.uint64(16777619)
"""VW's multiplier for the first feature of a quadratic interaction."""

INDEX_CACHE_SIZE = 100_000
"""Feature names whose weight index is kept; the cache starts over when it is full."""

BLOCK_CACHE_SIZE = 50_000
"""Titles whose compiled actions are kept; the cache starts over when it is full."""

Indexed = tuple[NDArray[np.uint64], NDArray[np.float64]]
"""Weight indexes and values of one namespace letter's features."""


@dataclass(frozen=True, slots=True)
class _Block:
    """One title's actions compiled: every feature's weight index, value, namespace letter
    (as its code point) and the action (0..count-1) it belongs to."""

    count: int
    index: NDArray[np.uint64]
    values: NDArray[np.float64]
    letter: NDArray[np.int32]
    owner: NDArray[np.intp]
    letters: frozenset[str]


class LinearScores:
    """Scores actions from a VW workspace's weights (see the module docstring).

    Not thread-safe: the owner serialises calls and must not let VW learn meanwhile (the
    weights are read in place, so learning shows in the next call).

    Args:
        workspace: A ``vowpal_wabbit_next.Workspace`` with one model (dense weights).
        interactions: The workspace's quadratic interactions as pairs of namespace names.
    """

    def __init__(self, workspace: Any, interactions: Sequence[tuple[str, str]]) -> None:
        weights = np.asarray(workspace.weights())
        if weights.ndim != 3 or weights.shape[1] != 1:
            raise ValueError(f"expected one dense model, got weights of shape {weights.shape}")
        rows = weights.shape[0]
        if rows & (rows - 1):
            raise ValueError(f"the weight table has {rows} rows, not a power of two")
        self._weights = weights[:, 0, 0]  # a view: learning shows in the next call
        self._mask = np.uint64(rows - 1)
        self._index_of = workspace.get_index_for_scalar_feature
        self._pairs = tuple(
            dict.fromkeys(
                (escape_feature_name(a)[0], escape_feature_name(b)[0]) for a, b in interactions
            )
        )
        self._indexes: dict[tuple[str, str], int] = {}
        self._blocks: dict[tuple[str, ...], tuple[Sequence[FeatureSpace], _Block]] = {}

    #: Feature names checked against both workspaces before compiled actions are reused.
    _PROBES = 16

    def cached(self) -> tuple[dict[tuple[str, str], int], dict[tuple[str, ...], Any]]:
        """Copies of the weight indexes and compiled actions (for :meth:`inherit`); the owner
        holds its lock while this runs."""
        return dict(self._indexes), dict(self._blocks)

    def inherit(self, other: LinearScores, cached: tuple[dict[Any, int], dict[Any, Any]]) -> bool:
        """Reuse what ``other`` compiled (``other.cached()``), so a hot-swapped model of the
        same feature space starts warm: weight indexes depend on the hashing, not the weights.

        Reused only when both tables have the same size and interactions and a sample of
        ``other``'s feature names hash to the same indexes here.

        Returns:
            True if the compiled actions were taken over.
        """
        indexes, blocks = cached
        if self._mask != other._mask or self._pairs != other._pairs:
            return False
        for (namespace, name), index in list(indexes.items())[: self._PROBES]:
            if int(self._index_of(escape_feature_name(name), namespace_name=namespace)) != index:
                return False
        self._indexes.update(indexes)
        self._blocks.update(blocks)
        return True

    def scores(
        self,
        shared: FeatureSpace,
        titles: Sequence[tuple[Sequence[FeatureSpace], Sequence[str] | None]],
    ) -> list[NDArray[np.float64]] | None:
        """Each title's action scores (VW's predicted costs less one shared constant).

        Args:
            shared: The request's features.
            titles: Per title, its actions' features and (optionally) their keys, under which
                the compiled actions are cached while the features stay the same.

        Returns:
            One array per title, in action order; None where VW must be asked instead
            (including any non-finite score).
        """
        if not titles:
            return []
        shared_letters = self._letters(shared)
        blocks = [self._block(actions, keys) for actions, keys in titles]
        action_letters = frozenset().union(*(b.letters for b in blocks))
        if not action_letters.isdisjoint(shared_letters):
            return None  # a letter on both sides: VW would merge the namespaces
        for first, second in self._pairs:
            if first in action_letters and second in action_letters:
                return None  # two action namespaces crossed: not a per-request constant
        counts = [b.count for b in blocks]
        starts = np.concatenate(([0], np.cumsum(counts, dtype=np.intp)))
        total = int(starts[-1])
        # The page's features in one set of arrays, each tagged with its action.
        index = np.concatenate([b.index for b in blocks])
        values = np.concatenate([b.values for b in blocks])
        letter = np.concatenate([b.letter for b in blocks])
        # Each feature's action on the page: its action within the title, plus the title's
        # first action (one repeat, not an addition per title).
        sizes = np.fromiter((len(b.owner) for b in blocks), dtype=np.intp, count=len(blocks))
        owner = np.concatenate([b.owner for b in blocks]) + np.repeat(starts[:-1], sizes)
        weights, mask = self._weights, self._mask
        terms = weights[index & mask] * values
        for first, second in self._pairs:
            if second in action_letters and first in shared_letters:
                s_index, s_values = shared_letters[first]
                picked = np.flatnonzero(letter == ord(second))
                crossed = ((s_index * FNV_PRIME)[:, None] ^ index[picked][None, :]) & mask
            elif first in action_letters and second in shared_letters:
                s_index, s_values = shared_letters[second]
                picked = np.flatnonzero(letter == ord(first))
                crossed = ((index[picked] * FNV_PRIME)[None, :] ^ s_index[:, None]) & mask
            else:
                continue  # shared with shared (the same for every action) or absent
            terms[picked] += (s_values @ weights[crossed]) * values[picked]
        out: NDArray[np.float64] = np.bincount(owner, weights=terms, minlength=total).astype(
            np.float64, copy=False
        )
        if not np.isfinite(out).all():
            return None  # a non-finite feature value or weight: VW refuses or answers it
        return [out[s:e] for s, e in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)]

    def _letters(self, space: FeatureSpace) -> dict[str, Indexed]:
        """Weight indexes and values of ``space`` grouped by namespace letter, as VW groups
        namespaces for interactions."""
        grouped: dict[str, tuple[list[int], list[float]]] = {}
        for namespace, features in space.items():
            if not features:
                continue
            # As rendered for VW: the default namespace is the bare "|", others escaped.
            escaped = (
                namespace if namespace == DEFAULT_NAMESPACE else escape_feature_name(namespace)
            )
            indexes, values = grouped.setdefault(escaped[0], ([], []))
            for name, value in features.items():
                if value != 0.0:
                    indexes.append(self._index(escaped, name))
                    values.append(float(value))
        return {
            letter: (np.asarray(i, dtype=np.uint64), np.asarray(v, dtype=np.float64))
            for letter, (i, v) in grouped.items()
            if i
        }

    def _index(self, namespace: str, name: str) -> int:
        key = (namespace, name)
        found = self._indexes.get(key)
        if found is None:
            if len(self._indexes) >= INDEX_CACHE_SIZE:
                self._indexes.clear()
            found = int(self._index_of(escape_feature_name(name), namespace_name=namespace))
            self._indexes[key] = found
        return found

    def _block(self, actions: Sequence[FeatureSpace], keys: Sequence[str] | None) -> _Block:
        cache_key = tuple(keys) if keys is not None else None
        if cache_key is not None:
            cached = self._blocks.get(cache_key)
            if cached is not None and (cached[0] is actions or cached[0] == actions):
                return cached[1]
        indexes: list[NDArray[np.uint64]] = []
        values: list[NDArray[np.float64]] = []
        letters: list[int] = []
        owners: list[int] = []
        for position, space in enumerate(actions):
            for letter, (index, value) in self._letters(space).items():
                indexes.append(index)
                values.append(value)
                letters += [ord(letter)] * len(index)
                owners += [position] * len(index)
        block = _Block(
            len(actions),
            np.concatenate(indexes) if indexes else np.zeros(0, dtype=np.uint64),
            np.concatenate(values) if values else np.zeros(0),
            np.asarray(letters, dtype=np.int32),
            np.asarray(owners, dtype=np.intp),
            frozenset(map(chr, letters)),
        )
        if cache_key is not None:
            if len(self._blocks) >= BLOCK_CACHE_SIZE:
                self._blocks.clear()
            self._blocks[cache_key] = (actions, block)
        return block
