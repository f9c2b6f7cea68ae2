"""The catalogue: titles, their variants with editorial state, and members' interactions.

Every write bumps a change counter in its own transaction (``catalog`` for titles and
variants, ``interactions`` for plays), so serving processes can cache what they read and
drop it when another process changes the catalogue (:mod:`artwork.catalog.cache`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, bindparam, delete, func, insert, select, true, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from artwork.catalog.bulk_insert import InsertPlan, MultiRowInsert, compile_insert
from artwork.catalog.counters import CATALOG, INTERACTIONS, bump_counter, read_counters
from artwork.catalog.database import storage_errors
from artwork.catalog.schema import (
    change_counters,
    homepage_impressions,
    interactions,
    titles,
    variant_images,
    variants,
)
from artwork.domain import Interaction, RowImpression, Title, Variant, VariantCrop, VariantStatus
from artwork.errors import StorageError, TitleExistsError, TitleNotFoundError, VariantNotFoundError

_PLAYS_COLUMNS = (
    interactions.c.user_id,
    interactions.c.title_id,
    interactions.c.timestamp,
    interactions.c.seconds,
    interactions.c.duration_s,
)  # Interaction's fields, in order
_ALL_PLAYS = select(*_PLAYS_COLUMNS).order_by(interactions.c.timestamp, interactions.c.id)
_MEMBER_PLAYS = _ALL_PLAYS.where(interactions.c.user_id == bindparam("user_id"))
_IDS_PER_QUERY = 500
"""Title ids per ``IN`` list when checking that plays name known titles."""


class Catalog:
    """SQL-backed catalogue. One instance per process; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every committed write of this instance (caches in this
        process drop what they hold at once; other processes poll the change counters)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    # --- titles and variants ------------------------------------------------------------------
    def add_title(
        self, title: Title, title_variants: Sequence[Variant], *, replace: bool = False
    ) -> list[str]:
        """Store a title and its variants in one transaction: all of it or none of it.

        Args:
            title: the title; ``created_at`` defaults to now.
            title_variants: its variants, in rank order.
            replace: swap out an existing title of the same id (its variants, not its plays).

        Returns:
            The image paths of replaced variants, for the caller to delete from the media store.

        Raises:
            TitleExistsError: a title with this id is already stored and ``replace`` is false.
            StorageError: the database failed; nothing was written.
        """
        created = title.created_at or datetime.now(UTC)
        replaced: list[str] = []
        try:
            with self.engine.begin() as conn:
                if replace:
                    replaced = list(
                        conn.scalars(
                            select(variants.c.image_path).where(
                                variants.c.title_id == title.title_id
                            )
                        )
                    )
                    replaced += _delete_crops(conn, title.title_id)
                    conn.execute(delete(variants).where(variants.c.title_id == title.title_id))
                    conn.execute(
                        update(titles)
                        .where(titles.c.title_id == title.title_id)
                        .values(
                            name=title.name,
                            genres=list(title.genres),
                            duration_s=title.duration_s,
                        )
                    )
                exists = replace and conn.scalar(
                    select(titles.c.title_id).where(titles.c.title_id == title.title_id)
                )
                if not exists:
                    conn.execute(
                        insert(titles).values(
                            title_id=title.title_id,
                            name=title.name,
                            genres=list(title.genres),
                            duration_s=title.duration_s,
                            created_at=created,
                        )
                    )
                if title_variants:
                    conn.execute(
                        insert(variants), [_variant_row(v, created) for v in title_variants]
                    )
                    crop_rows = [_crop_row(v, c) for v in title_variants for c in v.crops.values()]
                    if crop_rows:
                        conn.execute(insert(variant_images), crop_rows)
                bump_counter(conn, CATALOG)
        except IntegrityError as exc:
            if self.has_title(title.title_id):
                raise TitleExistsError(
                    f"title {title.title_id!r} already exists; pick another --title-id "
                    "or pass --replace to re-extract it"
                ) from exc
            raise StorageError(f"cannot store title {title.title_id!r}: {exc.orig}") from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot store title {title.title_id!r}: {exc}") from exc
        self._changed()
        return replaced

    def delete_title(self, title_id: str) -> list[str]:
        """Remove a title, its variants and interactions; returns the variants' image paths
        (full frames and crops)."""
        with self.engine.begin() as conn:
            paths = list(
                conn.scalars(select(variants.c.image_path).where(variants.c.title_id == title_id))
            )
            paths += _delete_crops(conn, title_id)
            conn.execute(delete(interactions).where(interactions.c.title_id == title_id))
            conn.execute(delete(variants).where(variants.c.title_id == title_id))
            deleted = conn.execute(delete(titles).where(titles.c.title_id == title_id)).rowcount
            bump_counter(conn, CATALOG)
            bump_counter(conn, INTERACTIONS)
        if not deleted:
            raise TitleNotFoundError(f"no title {title_id!r} in the catalogue")
        self._changed()
        return paths

    def has_title(self, title_id: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.scalar(select(titles.c.title_id).where(titles.c.title_id == title_id))
        return found is not None

    def get_title(self, title_id: str) -> Title:
        """Raises: TitleNotFoundError."""
        with self.engine.connect() as conn:
            row = conn.execute(select(titles).where(titles.c.title_id == title_id)).mappings()
            found = row.first()
        if found is None:
            raise TitleNotFoundError(
                f"no title {title_id!r} in the catalogue; list titles with GET /v1/titles"
            )
        return _title(found)

    def list_titles(self) -> list[Title]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(titles).order_by(titles.c.title_id)).mappings().all()
        return [_title(r) for r in rows]

    def count_titles(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(titles)) or 0)

    def variants(self, title_id: str, status: VariantStatus | None = None) -> list[Variant]:
        """A title's variants in rank order, optionally only those in one editorial state."""
        return self.variants_for([title_id], status).get(title_id, [])

    def variants_for(
        self, title_ids: Iterable[str], status: VariantStatus | None = None
    ) -> dict[str, list[Variant]]:
        """Variants of many titles in one query, keyed by title id, each list in rank order."""
        ids = list(dict.fromkeys(title_ids))
        if not ids:
            return {}
        query = select(variants).where(variants.c.title_id.in_(ids))
        if status is not None:
            query = query.where(variants.c.status == status.value)
        query = query.order_by(variants.c.title_id, variants.c.rank)
        grouped: dict[str, list[Variant]] = defaultdict(list)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            crops = _crops_of(conn, [row["variant_id"] for row in rows])
        for row in rows:
            grouped[row["title_id"]].append(_variant(row, crops.get(row["variant_id"])))
        return dict(grouped)

    def get_variant(self, variant_id: str) -> Variant:
        """Raises: VariantNotFoundError."""
        with self.engine.connect() as conn:
            row = conn.execute(select(variants).where(variants.c.variant_id == variant_id))
            found = row.mappings().first()
            crops = _crops_of(conn, [variant_id])
        if found is None:
            raise VariantNotFoundError(f"no variant {variant_id!r} in the catalogue")
        return _variant(found, crops.get(variant_id))

    def set_variant_status(self, variant_id: str, status: VariantStatus) -> None:
        """Raises: VariantNotFoundError."""
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(variants)
                .where(variants.c.variant_id == variant_id)
                .values(status=status.value)
            ).rowcount
            bump_counter(conn, CATALOG)
        if not changed:
            raise VariantNotFoundError(f"no variant {variant_id!r} in the catalogue")
        self._changed()

    # --- interactions -------------------------------------------------------------------------
    def add_interactions(self, items: Sequence[Interaction]) -> int:
        """Append plays in one transaction; returns how many were stored.

        Raises:
            TitleNotFoundError: an interaction names a title the catalogue does not hold.
        """
        if not items:
            return 0
        named = sorted({i.title_id for i in items})
        with self.engine.begin() as conn:
            # The titles named, not the whole catalogue: clients post plays all the time.
            known: set[str] = set()
            for start in range(0, len(named), _IDS_PER_QUERY):
                chunk = named[start : start + _IDS_PER_QUERY]
                known.update(
                    conn.scalars(select(titles.c.title_id).where(titles.c.title_id.in_(chunk)))
                )
            unknown = [t for t in named if t not in known]
            if unknown:
                raise TitleNotFoundError(
                    f"interactions name unknown titles: {', '.join(unknown[:5])}"
                )
            conn.execute(
                insert(interactions),
                [
                    {
                        "user_id": i.user_id,
                        "title_id": i.title_id,
                        "timestamp": i.timestamp,
                        "seconds": i.seconds,
                        "duration_s": i.duration_s,
                    }
                    for i in items
                ],
            )
            bump_counter(conn, INTERACTIONS, len(items))
        self._changed()
        return len(items)

    def interactions(self, user_id: str | None = None) -> list[Interaction]:
        """All interactions (or one member's), oldest first."""
        # One member's plays are read for every homepage of a member not cached: the
        # statement is built once.
        with self.engine.connect() as conn:
            if user_id is None:
                rows = conn.execute(_ALL_PLAYS).all()
            else:
                rows = conn.execute(_MEMBER_PLAYS, {"user_id": user_id}).all()
        return [Interaction(*row) for row in rows]

    def plays_since(self, after: int, limit: int) -> tuple[int, int, list[str]]:
        """What changed in the plays since the play numbered ``after``, read in one statement
        (one snapshot): the ``interactions`` change counter, the newest play's number, and
        the members of the plays numbered above ``after`` (at most ``limit``, oldest first).

        Raises:
            StorageError: The database failed.
        """
        counter = (
            select(change_counters.c.value)
            .where(change_counters.c.name == INTERACTIONS)
            .scalar_subquery()
        )
        newest = select(func.max(interactions.c.id)).scalar_subquery()
        head = select(
            func.coalesce(counter, 0).label("counter"), func.coalesce(newest, 0).label("newest")
        ).subquery()
        added = (
            select(interactions.c.id, interactions.c.user_id)
            .where(interactions.c.id > after)
            .order_by(interactions.c.id)
            .limit(limit)
            .subquery()
        )
        statement = (
            select(head.c.counter, head.c.newest, added.c.user_id)
            .select_from(head.outerjoin(added, true()))
            .order_by(added.c.id)
        )
        with storage_errors("read the plays added lately"), self.engine.connect() as conn:
            rows = conn.execute(statement).all()
        return (
            int(rows[0][0]),
            int(rows[0][1]),
            [str(user) for _, _, user in rows if user is not None],
        )

    def count_interactions(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(interactions)) or 0)

    # --- ranking: content vectors and homepage impressions ------------------------------------
    def variant_embeddings(self) -> dict[str, list[np.ndarray]]:
        """Every stored variant embedding, keyed by title id (the titles' content vectors)."""
        query = select(variants.c.title_id, variants.c.embedding).where(
            variants.c.embedding.is_not(None)
        )
        grouped: dict[str, list[np.ndarray]] = defaultdict(list)
        with self.engine.connect() as conn:
            for title_id, raw in conn.execute(query):
                grouped[title_id].append(np.frombuffer(raw, dtype="<f4"))
        return dict(grouped)

    def log_impressions(self, rows: Sequence[RowImpression]) -> int:
        """Append the rows of served homepages in one transaction; returns how many."""
        if not rows:
            return 0
        with self.engine.begin() as conn:
            write_impressions(conn, rows)
        return len(rows)

    def change_counters(self) -> dict[str, int]:
        """The change counters (``catalog``, ``interactions``): a cheap query to poll.

        Raises:
            StorageError: The database failed.
        """
        return read_counters(self.engine)

    def impressions(self, since: datetime | None = None) -> list[RowImpression]:
        """Logged homepage rows (all, or those served at or after ``since``), oldest first."""
        query = select(homepage_impressions).order_by(
            homepage_impressions.c.created_at, homepage_impressions.c.id
        )
        if since is not None:
            query = query.where(homepage_impressions.c.created_at >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            RowImpression(
                impression_id=r["impression_id"],
                created_at=r["created_at"],
                user_id=r["user_id"],
                selector=r["selector"],
                model_version=r["model_version"],
                position=r["position"],
                row_id=r["row_id"],
                source=r["source"],
                score=r["score"],
                title_ids=tuple(r["title_ids"]),
                features=dict(r["features"]),
            )
            for r in rows
        ]


#: The columns homepage rows are written with (``id`` is assigned by the database).
_IMPRESSION_COLUMNS = (
    "impression_id",
    "created_at",
    "user_id",
    "selector",
    "model_version",
    "position",
    "row_id",
    "source",
    "score",
    "title_ids",
    "features",
)
_impression_inserts: dict[str, tuple[MultiRowInsert, InsertPlan]] = {}


def write_impressions(conn: Connection, rows: Sequence[RowImpression]) -> None:
    """Insert served homepage rows in the caller's transaction (the group-commit writer's).

    On SQLite a page's ~10 rows go in as one statement with their JSON written here
    (:mod:`artwork.catalog.bulk_insert`): SQLAlchemy's per-row processing and sqlite3's
    per-row hand-over of the interpreter lock cost about twice the insert.
    """
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        _write_impressions_sqlite(conn, rows)
        return
    conn.execute(
        insert(homepage_impressions),
        [
            {
                "impression_id": r.impression_id,
                "created_at": r.created_at,
                "user_id": r.user_id,
                "selector": r.selector,
                "model_version": r.model_version,
                "position": r.position,
                "row_id": r.row_id,
                "source": r.source,
                "score": r.score,
                "title_ids": list(r.title_ids),
                "features": dict(r.features),
            }
            for r in rows
        ],
    )


def _write_impressions_sqlite(conn: Connection, rows: Sequence[RowImpression]) -> None:
    dialect = conn.dialect
    found = _impression_inserts.get(dialect.name)
    if found is None:
        plan = compile_insert(homepage_impressions, _IMPRESSION_COLUMNS, dialect, "created_at")
        found = (MultiRowInsert(plan.statement, len(_IMPRESSION_COLUMNS)), plan)
        _impression_inserts[dialect.name] = found
    inserter, (_, order, stamp) = found
    assert order is not None  # SQLite's parameters are positional
    stamped: dict[datetime, Any] = {}  # a page's rows share one time
    values = []
    for r in rows:
        at = stamped.get(r.created_at)
        if at is None:
            at = stamped[r.created_at] = stamp(r.created_at) if stamp else r.created_at
        row = (
            r.impression_id,
            at,
            r.user_id,
            r.selector,
            r.model_version,
            r.position,
            r.row_id,
            r.source,
            r.score,
            json.dumps(list(r.title_ids), separators=(",", ":"), ensure_ascii=False),
            json.dumps(dict(r.features), separators=(",", ":"), ensure_ascii=False),
        )
        values.append(tuple(row[i] for i in order))
    inserter.execute(conn, values)


def _title(row: RowMapping) -> Title:
    return Title(
        title_id=row["title_id"],
        name=row["name"],
        genres=tuple(row["genres"] or ()),
        duration_s=row["duration_s"],
        created_at=row["created_at"],
    )


def _variant_row(v: Variant, created: datetime) -> dict[str, Any]:
    embedding = None
    if v.embedding is not None:
        embedding = np.asarray(v.embedding, dtype="<f4").tobytes()
    return {
        "variant_id": v.variant_id,
        "title_id": v.title_id,
        "rank": v.rank,
        "frame_time_s": v.frame_time_s,
        "score": v.score,
        "scores": dict(v.scores),
        "tags": dict(v.tags),
        "embedder": v.embedder,
        "image_path": v.image_path,
        "width": v.width,
        "height": v.height,
        "status": v.status.value,
        "explanation": v.explanation,
        "embedding": embedding,
        "created_at": created,
    }


def _crop_row(v: Variant, crop: VariantCrop) -> dict[str, Any]:
    return {
        "lineage_id": v.variant_id,
        "format": crop.format,
        "image_path": crop.image_path,
        "box": list(crop.box),
        "width": crop.width,
        "height": crop.height,
    }


def _delete_crops(conn: Connection, title_id: str) -> list[str]:
    """Delete the crops of a title's variants; returns their image paths."""
    of_title = variant_images.c.lineage_id.in_(
        select(variants.c.variant_id).where(variants.c.title_id == title_id)
    )
    paths = list(conn.scalars(select(variant_images.c.image_path).where(of_title)))
    conn.execute(delete(variant_images).where(of_title))
    return paths


def _crops_of(conn: Connection, variant_ids: Sequence[str]) -> dict[str, dict[str, VariantCrop]]:
    """The crops of the given variants, by variant id, then format."""
    found: dict[str, dict[str, VariantCrop]] = defaultdict(dict)
    if not variant_ids:
        return found
    query = select(variant_images).where(variant_images.c.lineage_id.in_(list(variant_ids)))
    for row in conn.execute(query).mappings():
        x, y, w, h = (int(v) for v in row["box"])
        found[row["lineage_id"]][row["format"]] = VariantCrop(
            row["format"], row["image_path"], (x, y, w, h), row["width"], row["height"]
        )
    return found


def _variant(row: RowMapping, crops: dict[str, VariantCrop] | None = None) -> Variant:
    raw = row["embedding"]
    return Variant(
        variant_id=row["variant_id"],
        title_id=row["title_id"],
        rank=row["rank"],
        frame_time_s=row["frame_time_s"],
        score=row["score"],
        scores=dict(row["scores"]),
        tags=dict(row["tags"]),
        embedder=row["embedder"],
        image_path=row["image_path"],
        width=row["width"],
        height=row["height"],
        status=VariantStatus(row["status"]),
        explanation=row["explanation"],
        embedding=np.frombuffer(raw, dtype="<f4").copy() if raw is not None else None,
        crops=dict(crops or {}),
    )
