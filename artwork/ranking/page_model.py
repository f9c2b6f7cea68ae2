"""The page model: features of a row given what is already on the page, and a logistic
regression, fitted on logged homepages, that predicts whether the member plays from the row.

The same ``PageState`` computes features when a selector places rows, when a served page is
logged, and when logged pages become training examples, so training and serving agree on
what a feature means. Features of one row at one position:

- ``position``: ``1 / log2(2 + position)``, the attention a row gets where it stands;
- ``first_screen``: 1 on the first screen (the first N rows);
- ``relevance``: the row source's own score;
- ``affinity``: the member's genre affinity for the row's visible titles;
- ``novelty``: share of the row's visible titles not already on the page above;
- ``new_genres``: share of the row's genres not yet on the page;
- ``repeat_source``: how many rows of the same source are above (capped at 3, scaled to 1);
- products of ``position`` with relevance, novelty and affinity; and one indicator per source.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from artwork.domain import Row, RowImpression
from artwork.ranking.interactions import InteractionLog, to_epoch
from artwork.ranking.page_context import PageContext
from artwork.ranking.rows import ROW_SOURCE_CLASSES

SOURCES: tuple[str, ...] = tuple(cls.name for cls in ROW_SOURCE_CLASSES)
BASE_FEATURES: tuple[str, ...] = (
    "position",
    "first_screen",
    "relevance",
    "affinity",
    "novelty",
    "new_genres",
    "repeat_source",
    "position_x_relevance",
    "position_x_novelty",
    "position_x_affinity",
)
FEATURE_NAMES: tuple[str, ...] = BASE_FEATURES + tuple(f"source:{s}" for s in SOURCES)
#: A play within this long after a page was served is credited to the page.
ATTRIBUTION_WINDOW_S = 6 * 3600.0
_REPEAT_CAP = 3.0
_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


@dataclass(frozen=True, eq=False)
class RowBlock:
    """The rows a selector chooses from, as arrays, built once per page.

    Attributes:
        rows: the rows.
        titles: title indices, one row each, padded with ``len(index)`` (a genre-less title).
        lengths: how many titles each row has.
        visible: the first-screen part of ``titles``.
        visible_counts: titles in ``visible`` that are not padding.
        relevance: the rows' scores.
        source: each row's source as an index into ``SOURCES`` (``len(SOURCES)``: unknown).
        genres: the genres of each row's visible titles.
        genre_counts: how many genres each row's visible titles have.
        affinity: the member's mean genre affinity over each row's visible titles.
    """

    rows: tuple[Row, ...]
    titles: NDArray[np.int32]
    lengths: NDArray[np.int64]
    visible: NDArray[np.int32]
    visible_counts: NDArray[np.int64]
    relevance: NDArray[np.float64]
    source: NDArray[np.int64]
    genres: NDArray[np.bool_]
    genre_counts: NDArray[np.int64]
    affinity: NDArray[np.float64]

    @classmethod
    def build(cls, rows: Sequence[Row], context: PageContext) -> RowBlock:
        """The arrays of ``rows`` under ``context``."""
        index = context.index
        pad = len(index)
        per_row = [context.titles_of(r) for r in rows]
        lengths = np.array([len(t) for t in per_row], dtype=np.int64)
        width = max(1, int(lengths.max(initial=0)))
        titles = np.full((len(rows), width), pad, dtype=np.int32)
        for i, t in enumerate(per_row):
            titles[i, : len(t)] = t
        m = context.first_screen_titles
        visible = titles[:, :m]
        table = index.genre_table
        visible_genres = table[visible]  # rows x m x genres
        affinity = np.zeros(len(rows))
        if len(context.genre_affinity) == len(index.genres) and len(index.genres):
            per_title = visible_genres @ context.genre_affinity
            n_genres = visible_genres.sum(axis=2)
            per_title = np.where(n_genres > 0, per_title / np.maximum(n_genres, 1), 0.0)
            counts = np.maximum((visible < pad).sum(axis=1), 1)
            affinity = per_title.sum(axis=1) / counts
        source_of = {s: i for i, s in enumerate(SOURCES)}
        genres = np.asarray(visible_genres.any(axis=1), dtype=bool)
        return cls(
            rows=tuple(rows),
            titles=titles,
            lengths=lengths,
            visible=visible,
            visible_counts=(visible < pad).sum(axis=1),
            relevance=np.array([r.score for r in rows], dtype=np.float64),
            source=np.array([source_of.get(r.source, len(SOURCES)) for r in rows], np.int64),
            genres=genres,
            genre_counts=genres.sum(axis=1),
            affinity=affinity,
        )


class PageState:
    """What is on the page so far (titles shown, genres covered, rows per source), and the
    features every candidate of ``block`` would have at the next position."""

    def __init__(self, context: PageContext, block: RowBlock) -> None:
        n_titles, n_genres = len(context.index), len(context.index.genres)
        self.context = context
        self.block = block
        self.placed = np.zeros(n_titles + 1, dtype=bool)  # the last entry is padding
        self.covered = np.zeros(n_genres, dtype=bool)
        self.source_counts = np.zeros(len(SOURCES) + 1)
        self.position = 0
        self.static = _static_features(block)  # what does not depend on the page so far

    @property
    def on_first_screen(self) -> bool:
        """Whether the next row lands on the first screen."""
        return self.position < self.context.first_screen_rows

    def novelty(self) -> NDArray[np.float64]:
        """Per candidate: share of its visible titles not yet on the page."""
        return _novelty(self.block, self.placed[self.block.visible].sum(axis=1))

    def new_genres(self) -> NDArray[np.float64]:
        """Per candidate: share of its visible titles' genres not yet on the page."""
        return _new_genres(self.block, (self.block.genres & ~self.covered).sum(axis=1))

    def repeat_source(self) -> NDArray[np.float64]:
        """Per candidate: rows of its source already placed (capped, scaled to [0, 1])."""
        return _repeat_source(self.source_counts[self.block.source])

    def dynamic(self) -> dict[str, NDArray[np.float64] | float]:
        """The features that depend on the page so far, for every candidate (by name)."""
        return _page_terms(
            self.block,
            1.0 / np.log2(self.position + 2.0),
            float(self.on_first_screen),
            self.novelty(),
            self.new_genres(),
            self.repeat_source(),
        )

    def features(self, which: NDArray[np.int64]) -> NDArray[np.float64]:
        """Features (``FEATURE_NAMES`` order) of the candidates ``which`` at the next position."""
        x = self.static[which]
        for name, value in self.dynamic().items():
            x[:, _COLUMN[name]] = value[which] if isinstance(value, np.ndarray) else value
        return x

    def place(self, visible: NDArray[np.int32], source: int) -> None:
        """Record a row showing ``visible`` titles first, from source index ``source``."""
        self.placed[visible] = True
        self.placed[-1] = False
        self.covered |= self.context.index.genre_table[visible].any(axis=0)
        self.source_counts[source] += 1
        self.position += 1


def page_features(rows: Sequence[Row], context: PageContext) -> NDArray[np.float64]:
    """The features each row of a finished page had at its position (one row per page row).

    What :class:`PageState` says of each row when the rows above it are placed, for the
    whole page at once: a page is logged on every request, and stepping through it cost a
    round of numpy calls per row.
    """
    if not rows:
        return np.zeros((0, len(FEATURE_NAMES)))
    block = RowBlock.build(rows, context)
    n = len(rows)
    # A visible title counts as placed for a row when a row above showed it first-screen.
    visible = block.visible
    pad = len(context.index)
    first_row = np.full(pad + 1, n, dtype=np.int64)
    np.minimum.at(first_row, visible.ravel(), np.repeat(np.arange(n), visible.shape[1]))
    first_row[pad] = n  # padding is never placed
    # Genres covered by the rows above.
    covered = np.zeros_like(block.genres)
    covered[1:] = np.logical_or.accumulate(block.genres, axis=0)[:-1]
    same_source = np.tril(block.source[:, None] == block.source[None, :], k=-1).sum(axis=1)
    terms = _page_terms(
        block,
        # Per position, as PageState computes it (so the same floats).
        np.array([1.0 / np.log2(position + 2.0) for position in range(n)]),
        (np.arange(n) < context.first_screen_rows).astype(np.float64),
        _novelty(block, (first_row[visible] < np.arange(n)[:, None]).sum(axis=1)),
        _new_genres(block, (block.genres & ~covered).sum(axis=1)),
        _repeat_source(same_source.astype(np.float64)),  # rows of the same source above
    )
    x = _static_features(block)
    for name, value in terms.items():
        x[:, _COLUMN[name]] = value
    return x


def _static_features(block: RowBlock) -> NDArray[np.float64]:
    """The features of ``block``'s rows that do not depend on the page so far."""
    static = np.zeros((len(block.rows), len(FEATURE_NAMES)))
    static[:, _COLUMN["relevance"]] = block.relevance
    static[:, _COLUMN["affinity"]] = block.affinity
    known = np.flatnonzero(block.source < len(SOURCES))
    static[known, len(BASE_FEATURES) + block.source[known]] = 1.0
    return static


def _novelty(block: RowBlock, placed: NDArray[np.integer]) -> NDArray[np.float64]:
    """Share of each row's visible titles not yet on the page (``placed``: those that are)."""
    return 1.0 - placed / np.maximum(block.visible_counts, 1)


def _new_genres(block: RowBlock, fresh: NDArray[np.integer]) -> NDArray[np.float64]:
    """Share of each row's visible titles' genres not yet on the page (``fresh`` of them)."""
    n_genres = block.genre_counts
    return np.where(n_genres > 0, fresh / np.maximum(n_genres, 1), 0.0)


def _repeat_source(same_source: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows of each row's source already placed, capped and scaled to [0, 1]."""
    return np.minimum(same_source, _REPEAT_CAP) / _REPEAT_CAP


def _page_terms(
    block: RowBlock,
    decay: NDArray[np.float64] | float,
    first_screen: NDArray[np.float64] | float,
    novelty: NDArray[np.float64],
    new_genres: NDArray[np.float64],
    repeat: NDArray[np.float64],
) -> dict[str, NDArray[np.float64] | float]:
    """The features that depend on the page so far, by name."""
    return {
        "position": decay,
        "first_screen": first_screen,
        "novelty": novelty,
        "new_genres": new_genres,
        "repeat_source": repeat,
        "position_x_relevance": decay * block.relevance,
        "position_x_novelty": decay * novelty,
        "position_x_affinity": decay * block.affinity,
    }


@dataclass(frozen=True, eq=False)
class PageModel:
    """A logistic regression predicting a play from a row's features at its position.

    Attributes:
        feature_names: the features ``coef`` weighs, in order.
        coef: weights on raw (unscaled) features.
        intercept: bias.
        examples: rows it was fitted on.
        positives: of which the member played from.
    """

    feature_names: tuple[str, ...]
    coef: NDArray[np.float64]
    intercept: float
    examples: int = 0
    positives: int = 0

    @classmethod
    def fit(
        cls,
        features: NDArray[np.float64],
        labels: NDArray[np.integer] | NDArray[np.bool_],
        feature_names: Sequence[str] = FEATURE_NAMES,
        c: float = 1.0,
    ) -> PageModel:
        """Fit on standardised features; the scaling is folded into ``coef``.

        Args:
            features: one row per logged page row.
            labels: 1 where the member played from the row.
            feature_names: the columns of ``features``.
            c: inverse regularisation strength.

        Raises:
            ValueError: shapes disagree, or the labels are all one class.
        """
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(features, dtype=np.float64)
        y = np.asarray(labels).astype(np.int64)
        if x.ndim != 2 or x.shape[1] != len(feature_names):
            raise ValueError(
                f"features must have {len(feature_names)} columns, got shape {x.shape}"
            )
        if len(y) != len(x):
            raise ValueError(f"labels has {len(y)} entries, features has {len(x)} rows")
        if len(np.unique(y)) < 2:
            raise ValueError("labels must contain both plays and non-plays")
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit((x - mean) / scale, y)
        coef = model.coef_[0] / scale
        intercept = float(model.intercept_[0] - np.sum(model.coef_[0] * mean / scale))
        return cls(tuple(feature_names), coef, intercept, len(y), int(y.sum()))

    def logit(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """Log-odds of a play for each row of ``features`` (``FEATURE_NAMES`` order)."""
        return features @ self.aligned_coef + self.intercept

    def predict(self, features: NDArray[np.float64]) -> NDArray[np.float64]:
        """Probability of a play for each row of ``features``."""
        return 1.0 / (1.0 + np.exp(-self.logit(features)))

    @property
    def aligned_coef(self) -> NDArray[np.float64]:
        """``coef`` over ``FEATURE_NAMES`` (features the model lacks weigh 0)."""
        if self.feature_names == FEATURE_NAMES:
            return self.coef
        weight = dict(zip(self.feature_names, self.coef, strict=True))
        return np.array([weight.get(n, 0.0) for n in FEATURE_NAMES])

    def to_json(self) -> str:
        """The model as JSON."""
        return json.dumps(
            {
                "feature_names": list(self.feature_names),
                "coef": [float(c) for c in self.coef],
                "intercept": self.intercept,
                "examples": self.examples,
                "positives": self.positives,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> PageModel:
        """Inverse of ``to_json``.

        Raises:
            ValueError: the JSON does not describe a page model.
        """
        raw: dict[str, Any] = json.loads(text)
        try:
            names = tuple(str(n) for n in raw["feature_names"])
            coef = np.array(raw["coef"], dtype=np.float64)
            if len(coef) != len(names):
                raise ValueError("coef and feature_names differ in length")
            return cls(
                names, coef, float(raw["intercept"]), int(raw["examples"]), int(raw["positives"])
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a page model: {exc}") from exc


def examples_from_impressions(
    impressions: Sequence[RowImpression],
    plays: InteractionLog,
    window_s: float = ATTRIBUTION_WINDOW_S,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Training examples from logged homepage rows and the plays that followed.

    A play is credited to the member's last page served before it, if that was at most
    ``window_s`` earlier; on that page, a row is positive when it showed the played title,
    and a title shown in several rows is credited to the topmost.

    Returns:
        Features (``FEATURE_NAMES`` order) and labels, one per logged row.
    """
    pages: dict[str, list[RowImpression]] = defaultdict(list)
    for item in impressions:
        pages[item.impression_id].append(item)
    by_user: dict[str, list[list[RowImpression]]] = defaultdict(list)
    for rows in pages.values():
        rows.sort(key=lambda r: r.position)
        by_user[rows[0].user_id].append(rows)
    features: list[list[float]] = []
    labels: list[int] = []
    for user_id, served in by_user.items():
        served.sort(key=lambda rows: rows[0].created_at)
        u = plays.user_index.get(user_id)
        mine = plays.plays_of(u) if u is not None else np.zeros(0, dtype=np.int64)
        when = plays.timestamp[mine]
        for i, rows in enumerate(served):
            start = to_epoch(rows[0].created_at)
            end = start + window_s
            if i + 1 < len(served):
                end = min(end, to_epoch(served[i + 1][0].created_at))
            hits = mine[(when >= start) & (when < end)]
            played = {plays.title_ids[t] for t in plays.title[hits]}
            credited: set[str] = set()
            for row in rows:
                hit = (set(row.title_ids) & played) - credited
                credited |= hit
                labels.append(int(bool(hit)))
                features.append([float(row.features.get(n, 0.0)) for n in FEATURE_NAMES])
    return np.array(features).reshape(-1, len(FEATURE_NAMES)), np.array(labels, dtype=np.int64)
