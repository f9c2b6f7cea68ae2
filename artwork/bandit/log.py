"""The decision log: every artwork choice and the reward it earned.

Decisions are append-only: they are the training data of the learner and the evidence of
off-policy evaluation, so they are never edited (new databases also refuse ``UPDATE`` on the
``decisions`` and ``rewards`` tables with a trigger). A reward is recorded at most once per
event, and only within the decision's reward wait window. Every decision gets a ``seq``, its
position in the log, which the learner's cursor counts in.

A decision row keeps what differs per decision (event key, time, member, title, chosen index,
model version) and references bodies stored once in ``decision_features`` under a content hash
(``"@<11 base64url characters>"``; a body of ``COMPRESS_FROM`` characters or more is stored
zlib-compressed when that is shorter):

- ``context``: the page's shared features;
- ``action_ids``: the title's action ids and features, one body ``[ids, features]``
  (``action_features`` holds ``0``);
- ``policy``: ``[configuration ref, extra_exploration, sticky_variant]`` with the
  probabilities inline in ``probabilities``, the first time this process meets them; once they
  repeat (under epsilon-greedy a few vectors cover most decisions), one reference to
  ``[configuration ref, probabilities, extra_exploration, sticky]`` with the sticky variant as
  its position in the actions (titles share it), and ``probabilities`` holds ``0``.

Reading the log resolves every reference, so every reader (learner, evaluation, DSJSON export)
sees complete decisions. Rows of older databases, which hold the bodies inline or reference the
ids, the features and the configuration separately (``"@<16 hex>"``), read the same way.

Signed event ids (:mod:`artwork.bandit.event_ids`) are stored by their unique key (32 hex).

Model snapshots live in :mod:`artwork.bandit.model_store` (``DecisionLog.models``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import math
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Text, and_, bindparam, cast, func, insert, inspect, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.schema import CreateIndex

from artwork.bandit.decision_counts import DecisionCounts
from artwork.bandit.model_store import Checkpoint, LearnerState, ModelStore
from artwork.catalog.bulk_insert import InsertPlan, MultiRowInsert, compile_insert, max_variables
from artwork.catalog.database import storage_errors
from artwork.catalog.schema import (
    UTCDateTime,
    decision_counts,
    decision_features,
    decisions,
    rewards,
)
from artwork.domain import Decision, DecisionConfig, Reward
from artwork.errors import (
    ConflictError,
    EventNotFoundError,
    RewardWindowClosedError,
    StorageError,
)

if TYPE_CHECKING:
    import psycopg

_logger = logging.getLogger(__name__)

__all__ = [
    "Checkpoint",
    "DecisionLog",
    "EventStub",
    "ImportCounts",
    "LearnerState",
    "LoggedEvent",
]


@dataclass(frozen=True, slots=True)
class EventStub:
    """What the learner needs to know of a decision before it is ready: its position, when it
    was made and whether a reward is recorded (no features are read)."""

    seq: int
    created_at: datetime
    rewarded: bool


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A logged decision, its position in the log, and its reward if one was recorded."""

    seq: int
    decision: Decision
    reward: Reward | None


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What :meth:`DecisionLog.import_events` added."""

    decisions: int
    rewards: int


DECODED_CACHE_SIZE = 50_000
"""Distinct JSON texts (a title's actions and their features, a context) kept decoded."""

REF_CACHE_SIZE = 100_000
"""Feature bodies whose reference this process remembers (written or read)."""

DECISION_REFS_KEPT = 10_000
"""Distinct probability vectors with their per-decision policy fields (and their references
once they repeat) remembered by the writer."""

_REFS_KEPT = {"c": 1024, "a": REF_CACHE_SIZE, "p": 1024}
"""Computed references kept per kind: contexts change with every page, so few are kept
(each entry holds its body alive); a title's actions repeat, so many are."""

_HEX_DIGITS = b"0123456789abcdef"
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
REF_PREFIX = "@"
_QUOTED_REF = '"' + REF_PREFIX  # a reference as a JSON column stores it
COMPRESS_FROM = 256
"""Bodies of at least this many characters are stored compressed (when that is shorter)."""
_COMPRESSED = "z"  # a stored body starting with this is base64 of zlib data; JSON never does
_WITH_OTHER = "0"
"""Stored (JSON ``0``) in a column whose content is part of another column's body."""
_SQLITE_ROWS = 200
"""Decision rows per SQLite INSERT statement (:mod:`artwork.catalog.bulk_insert`)."""
_REWARDS_PER_INSERT = 500
"""Rewards per INSERT statement (three bound values each: far below any database's limit)."""


def _postgres_rewards_insert(conn: Connection) -> str:
    """``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING RETURNING event_id``."""
    table = conn.dialect.identifier_preparer.format_table(rewards)
    return (
        f"INSERT INTO {table} (event_id, value, received_at) "
        "SELECT * FROM unnest(%s::text[], %s::float8[], %s::timestamptz[]) "
        "ON CONFLICT DO NOTHING RETURNING event_id"
    )


_UNSEEN: Any = object()
_EXTRA, _STICKY = _PER_DECISION_POLICY = ("extra_exploration", "sticky_variant")
_ROW_COLUMNS = (
    "event_id",
    "created_at",
    "user_id",
    "title_id",
    "context",
    "action_ids",
    "action_features",
    "probabilities",
    "chosen_index",
    "model_version",
    "policy",
)
"""The columns a decision row is written with (``seq`` is assigned by the database)."""
_COPY_DECISIONS = f"COPY decisions ({', '.join(_ROW_COLUMNS)}) FROM STDIN"


def event_key(event_id: str) -> str:
    """The key a decision is stored under: a signed id's unique key, or the id itself.

    The signature is not checked here: callers that take ids from outside verify them first
    (:class:`~artwork.bandit.event_ids.EventIdSigner`); the key only locates the row.
    """
    if not event_id.startswith("e1."):
        return event_id
    parts = event_id.split(".")
    if len(parts) != 3:
        return event_id
    # The signer writes the key first: '{"k":"' + 32 hex digits + '"' is exactly the first
    # 52 base64 characters. Anything else is parsed in full.
    head = parts[1][:52]
    if len(head) == 52:
        try:
            # urlsafe_b64decode's steps without its argument checks (the writer calls this
            # once per decision).
            prefix = binascii.a2b_base64(head.encode("ascii").translate(_FROM_URLSAFE))
        except (ValueError, UnicodeEncodeError):
            return event_id
        if prefix.startswith(b'{"k":"') and prefix[38:39] == b'"':
            key = prefix[6:38]
            if not key.translate(None, _HEX_DIGITS):  # nothing but hex digits
                return key.decode("ascii")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        return str(json.loads(payload)["k"])
    except (ValueError, KeyError, TypeError):
        return event_id


class DecisionLog:
    """SQL-backed log of decisions, rewards and model snapshots; safe to share between threads.

    Args:
        engine: Engine from :func:`artwork.catalog.database.create_database_engine`.
        clock: Returns the current time (timezone-aware) for snapshot timestamps.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or _utcnow
        self.models = ModelStore(engine, clock=self._clock)
        # Decoding the logged features is most of the cost of reading the log, and a title's
        # action features repeat in every decision for it: decode each distinct text once.
        self._decoded: dict[str, Any] = {}
        self._decoded_lock = threading.Lock()
        # Feature bodies: ref -> decoded body (read side), and what this process knows is
        # stored, with the objects a ref was computed from (write side, by identity).
        self._bodies: dict[str, Any] = {}
        self._stored: set[str] = set()
        self._ref_of: dict[str, dict[Any, tuple[Any, str, str]]] = {k: {} for k in _REFS_KEPT}
        # Per dialect: the compiled insert of decision rows, its parameter order, the
        # created_at processor (see _insert_rows).
        self._insert_plans: dict[str, InsertPlan] = {}
        self._multi_row: MultiRowInsert | None = None  # SQLite's decision rows
        self._reward_inserts: dict[int, str] = {}  # ... and of rewards
        # Per dialect: the text of _LAST_SHOWN, its parameter order, the since processor.
        self._last_shown_plans: dict[str, tuple[str, tuple[str, ...] | None, Any]] = {}
        # (stored action ids, chosen position) -> the variant shown (see last_shown).
        self._shown_variants: dict[tuple[str, int], str] = {}
        # id(decision.action_features) -> (those features, the action ids, their ref).
        self._action_refs: dict[int, tuple[Any, Any, str]] = {}
        # id(decision.policy) -> (that dict, a copy, its shared part, its ref, the inline JSON
        # text of the policy column, the exploration share, the sticky variant).
        self._policy_text: dict[int, tuple[Any, dict[str, Any], dict[str, Any], str, str, Any, Any]]
        self._policy_text = {}
        self._base_refs: dict[int, tuple[Mapping[str, Any], dict[str, Any], str]] = {}
        # (config ref, exploration share, sticky, probabilities) -> None once met, then
        # (ref, stored body) once it repeats.
        self._decision_refs: dict[tuple[Any, ...], tuple[str, str] | None] = {}
        self._refs_lock = threading.Lock()
        self._on_miss: Callable[[], object] | None = None
        self.counts = DecisionCounts(engine)
        self._count_logged()
        self._index_by_member_time()

    def now(self) -> datetime:
        """The current time by this log's clock."""
        return self._clock()

    def on_miss(self, flush: Callable[[], object]) -> None:
        """Call ``flush`` (write what this process has queued) before :meth:`get` reports an
        event id unknown, so a process reads its own decisions at once."""
        self._on_miss = flush

    # --- decisions ----------------------------------------------------------------------------
    def append(self, decision: Decision) -> None:
        """Log a decision.

        Args:
            decision: The decision; its event id must be new.

        Raises:
            ValueError: The decision's actions, features and probabilities disagree.
            ConflictError: A decision with this event id is already logged.
            StorageError: The database failed.
        """
        self.append_many([decision])

    def append_many(self, items: Sequence[Decision]) -> None:
        """Log decisions in one transaction (a page's worth): all of them or none.

        Args:
            items: Decisions with new, distinct event ids.

        Raises:
            ValueError: A decision's actions, features and probabilities disagree.
            ConflictError: An event id is already logged (nothing is written).
            StorageError: The database failed.
        """
        if not items:
            return
        with storage_errors(f"log decision {items[0].event_id!r}"):
            try:
                with self.engine.begin() as conn:
                    stored = self.write(conn, items)
            except IntegrityError as exc:
                ids = ", ".join(repr(d.event_id) for d in items[:3])
                raise ConflictError(
                    f"event id {ids} is already logged; decisions are append-only"
                ) from exc
        self.remember(stored)

    def write(self, conn: Connection, items: Sequence[Decision]) -> set[str]:
        """Insert decisions (and the feature bodies they reference) in the caller's
        transaction: the group-commit writer batches many pages into one.

        Returns:
            The feature references inserted: pass them to :meth:`remember` once the
            transaction has committed (if it rolls back, a later write inserts them again).

        Raises:
            ValueError: A decision's actions, features and probabilities disagree.
            SQLAlchemyError: The database failed (the caller's transaction rolls back).
        """
        if not items:
            return set()
        fresh: dict[str, str] = {}
        rows = []
        for decision in items:
            _check_decision(decision)
            rows.append(self._decision_row(decision, fresh))
        if fresh:
            self._insert_bodies(conn, fresh)
        self._insert_rows(conn, rows)
        self.counts.add(conn, ((d.title_id, d.action_ids[d.chosen_index]) for d in items))
        return set(fresh)

    def _insert_rows(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """``executemany`` of decision rows (``_ROW_COLUMNS`` order) whose JSON columns are
        serialised already.

        The group-commit writer inserts ~150 rows a page; SQLAlchemy's per-row parameter
        processing (a ``json.dumps`` per JSON column) cost more than the insert itself. The
        statement is compiled once per dialect; datetimes still go through the column type,
        once per distinct time (a page's decisions share one).
        """
        dialect = conn.dialect
        plan = self._insert_plans.get(dialect.name)
        if plan is None:
            plan = compile_insert(decisions, _ROW_COLUMNS, dialect, "created_at")
            self._insert_plans[dialect.name] = plan
        statement, order, stamp = plan
        if stamp is not None:
            stamped: list[tuple[Any, ...]] = []
            last: Any = None
            value: Any = None
            for row in rows:
                if row[1] is not last:
                    last, value = row[1], stamp(row[1])
                stamped.append((row[0], value, *row[2:]))
            rows = stamped
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            self._copy_rows(conn, rows)
            return
        params: Sequence[Any]
        if order is None:
            params = [dict(zip(_ROW_COLUMNS, row, strict=True)) for row in rows]
        elif order == tuple(range(len(_ROW_COLUMNS))):
            params = rows
        else:
            params = [tuple(row[i] for i in order) for row in rows]
        if dialect.name == "sqlite" and order is not None:
            if self._multi_row is None:
                self._multi_row = MultiRowInsert(statement, len(_ROW_COLUMNS), _SQLITE_ROWS)
            self._multi_row.execute(conn, params)
        else:
            conn.exec_driver_sql(statement, params)

    @staticmethod
    def _copy_rows(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Decision rows (``_ROW_COLUMNS`` order) into PostgreSQL with ``COPY ... FROM STDIN``
        in the caller's transaction.

        A page's ~150 rows went in as a pipelined ``executemany``: a bind and an execution
        per row for the server, a Python round of psycopg's per-row machinery for the
        worker. ``COPY`` streams them (psycopg formats each row in C) and the server loads
        them without planning or starting an executor per row.
        """
        import psycopg  # the driver of this dialect: imported already

        raw: psycopg.Connection[Any] | None = conn.connection.driver_connection
        assert raw is not None  # a connection in a transaction
        try:
            with raw.cursor() as cursor, cursor.copy(_COPY_DECISIONS) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            # As SQLAlchemy reports what it executes itself (a repeated event id is an
            # IntegrityError), and a lost connection is not handed out again.
            failure: Any = exc  # psycopg's error, the DBAPI error SQLAlchemy expects
            if conn.dialect.is_disconnect(failure, conn.connection, None):
                conn.invalidate(exc)
            raise DBAPIError.instance(
                _COPY_DECISIONS, None, exc, psycopg.Error, dialect=conn.dialect
            ) from exc

    def remember(self, refs: Iterable[str]) -> None:
        """Note feature bodies as stored (their transaction committed): not written again."""
        with self._refs_lock:
            if len(self._stored) > REF_CACHE_SIZE:
                self._stored.clear()
            self._stored.update(refs)

    def _insert_bodies(self, conn: Connection, fresh: Mapping[str, str]) -> None:
        values = [{"ref": ref, "body": body} for ref, body in fresh.items()]
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.execute(sqlite.insert(decision_features).on_conflict_do_nothing(), values)
        elif dialect == "postgresql":
            conn.execute(postgresql.insert(decision_features).on_conflict_do_nothing(), values)
        else:  # pragma: no cover - artwork supports SQLite and PostgreSQL
            known = set(
                conn.scalars(
                    select(decision_features.c.ref).where(decision_features.c.ref.in_(fresh))
                )
            )
            values = [v for v in values if v["ref"] not in known]
            if values:
                conn.execute(insert(decision_features), values)

    def _ref(self, value: Any, kind: str, key: Any, fresh: dict[str, str]) -> str:
        """The reference of a feature body, computed once per distinct ``key`` of a kind."""
        refs = self._ref_of[kind]
        cached = refs.get(key)
        if cached is None or (cached[0] is not value and cached[0] != value):
            ref, stored = _stored_body(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
            with self._refs_lock:
                if len(refs) >= _REFS_KEPT[kind]:
                    refs.clear()
                cached = (value, ref, stored)
                refs[key] = cached
        _, ref, stored = cached
        if ref not in self._stored:
            fresh[ref] = stored
        return ref

    def _base_ref(self, base: Mapping[str, Any], fresh: dict[str, str]) -> str:
        """The reference of a serving configuration many decisions share, kept by identity
        (the dict is kept alive with it, and compared in case it changed)."""
        known = self._base_refs.get(id(base))
        if known is None or known[0] is not base or known[1] != base:
            known = (base, dict(base), self._ref(base, "p", tuple(base.items()), fresh))
            with self._refs_lock:
                if len(self._base_refs) >= _REFS_KEPT["p"]:
                    self._base_refs.clear()
                self._base_refs[id(base)] = known
        elif known[2] not in self._stored:
            self._ref(base, "p", tuple(base.items()), fresh)
        return known[2]

    def _decision_row(self, decision: Decision, fresh: dict[str, str]) -> tuple[Any, ...]:
        """A decision as stored, in ``_ROW_COLUMNS`` order, JSON columns serialised."""
        context = decision.context
        features = decision.action_features
        action_ids = decision.action_ids
        policy = decision.policy
        # Keys by identity keep the objects alive in the cache, so an id is never reused.
        context_ref = self._ref(context, "c", id(context), fresh)
        # A title's action ids and features come as the same two tuples on every page.
        known_actions = self._action_refs.get(id(features))
        if (
            known_actions is not None
            and known_actions[0] is features
            and known_actions[1] is action_ids
            and known_actions[2] in self._stored
        ):
            actions_ref = known_actions[2]
        else:
            actions_ref = self._ref(
                [list(action_ids), list(features)],
                "a",
                (tuple(action_ids), tuple(map(id, features))),
                fresh,
            )
            with self._refs_lock:
                if len(self._action_refs) >= REF_CACHE_SIZE:
                    self._action_refs.clear()
                self._action_refs[id(features)] = (features, action_ids, actions_ref)
        extra: Any
        sticky: Any
        base = policy.base if isinstance(policy, DecisionConfig) else None
        if (
            base is not None
            and len(policy) == len(base) + 2
            and _EXTRA in policy
            and _STICKY in policy
        ):
            # The serving bandit's decisions: a shared configuration plus their own two fields.
            config_ref = self._base_ref(base, fresh)
            extra, sticky = policy[_EXTRA], policy[_STICKY]
            policy_text = f'["{config_ref}",{_json_value(extra)},{_json_value(sticky)}]'
        # Other configurations (imported decisions): a dict many decisions share has its stored
        # form kept by identity (the dict is kept alive with it, and compared in case it changed).
        elif (known := self._policy_text.get(id(policy))) is not None and (
            known[0] is policy and known[1] == policy
        ):
            _, _, base, config_ref, policy_text, extra, sticky = known
            if config_ref not in self._stored:
                self._ref(base, "p", tuple(base.items()), fresh)
        else:
            base = {k: v for k, v in policy.items() if k not in _PER_DECISION_POLICY}
            config_ref = self._ref(base, "p", tuple(base.items()), fresh)
            extra, sticky = (policy.get(name) for name in _PER_DECISION_POLICY)
            policy_text = json.dumps(
                [config_ref, extra, sticky], separators=(",", ":"), ensure_ascii=False
            )
            with self._refs_lock:
                if len(self._policy_text) >= _REFS_KEPT["p"]:
                    self._policy_text.clear()
                entry = (policy, dict(policy), base, config_ref, policy_text, extra, sticky)
                self._policy_text[id(policy)] = entry
        probabilities = decision.probabilities
        # The probabilities and the per-decision fields: by reference once they repeat (the
        # sticky variant by its position, so titles share them); inline until then, and for
        # values a reference could not give back exactly.
        if (extra is None or type(extra) is float) and (sticky is None or type(sticky) is str):
            if sticky and sticky in action_ids:
                sticky = action_ids.index(sticky)
            key = (config_ref, extra, sticky, tuple(probabilities))
            shared = self._decision_refs.get(key, _UNSEEN)
            if shared is _UNSEEN:
                with self._refs_lock:
                    if len(self._decision_refs) >= DECISION_REFS_KEPT:
                        self._decision_refs.clear()
                    self._decision_refs[key] = None
            else:
                if shared is None:
                    shared = _stored_body(
                        f'["{config_ref}",{_floats(probabilities)},'
                        + json.dumps([extra, sticky], separators=(",", ":"), ensure_ascii=False)[1:]
                    )
                    self._decision_refs[key] = shared
                ref, stored = shared
                if ref not in self._stored:
                    fresh[ref] = stored
                return (
                    event_key(decision.event_id),
                    decision.created_at,
                    decision.user_id,
                    decision.title_id,
                    f'"{context_ref}"',
                    f'"{actions_ref}"',
                    _WITH_OTHER,
                    _WITH_OTHER,
                    decision.chosen_index,
                    decision.model_version,
                    f'"{ref}"',
                )
        return (
            event_key(decision.event_id),
            decision.created_at,
            decision.user_id,
            decision.title_id,
            # JSON columns as stored (see _insert_rows); a reference needs no escaping.
            f'"{context_ref}"',
            f'"{actions_ref}"',
            _WITH_OTHER,
            _floats(probabilities),
            decision.chosen_index,
            decision.model_version,
            # The configuration's ref, then the per-decision fields in a fixed order (None:
            # absent).
            policy_text,
        )

    def _resolve_refs(self, conn: Connection, refs: Iterable[str]) -> dict[str, Any]:
        """The bodies of these references, decoded: read once per process (one query for those
        not read yet), then from memory.

        Raises:
            StorageError: A reference has no stored body.
        """
        wanted = dict.fromkeys(refs)
        bodies = {ref: body for ref in wanted if (body := self._bodies.get(ref)) is not None}
        missing = [ref for ref in wanted if ref not in bodies]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            query = select(decision_features.c.ref, decision_features.c.body).where(
                decision_features.c.ref.in_(chunk)
            )
            found = {str(r[0]): _decoded_body(str(r[1])) for r in conn.execute(query)}
            bodies.update(found)
            with self._refs_lock:
                if len(self._bodies) >= REF_CACHE_SIZE:
                    self._bodies.clear()
                self._bodies.update(found)
            lost = set(chunk) - set(found)
            if lost:
                raise StorageError(
                    f"the decision log references feature bodies that are not stored: "
                    f"{sorted(lost)[:3]}"
                )
        return bodies

    def import_events(self, items: Sequence[tuple[Decision, Reward | None]]) -> ImportCounts:
        """Add decisions logged elsewhere, with their rewards, in one transaction.

        Decisions whose event id is already logged are skipped (an import can be repeated);
        rewards are taken as recorded, without a wait window.

        Args:
            items: ``(decision, reward or None)`` pairs; a reward's event id is its decision's.

        Raises:
            ValueError: A decision is inconsistent, or a reward belongs to another event.
            StorageError: The database failed (nothing of ``items`` is written).
        """
        for decision, reward in items:
            _check_decision(decision)
            if reward is not None:
                if reward.event_id != decision.event_id:
                    raise ValueError(
                        f"reward of {reward.event_id!r} given with decision {decision.event_id!r}"
                    )
                if not math.isfinite(reward.value) or reward.received_at.tzinfo is None:
                    raise ValueError(f"reward of {reward.event_id!r} must be finite and dated")
        ids = list(dict.fromkeys(event_key(decision.event_id) for decision, _ in items))
        with storage_errors("import decisions"), self.engine.begin() as conn:
            known = (
                set(conn.scalars(select(decisions.c.event_id).where(decisions.c.event_id.in_(ids))))
                if ids
                else set()
            )
            fresh: dict[str, tuple[Decision, Reward | None]] = {}
            for decision, reward in items:
                key = event_key(decision.event_id)
                if key not in known and key not in fresh:
                    fresh[key] = (decision, reward)
            stored = self.write(conn, [d for d, _ in fresh.values()])
            reward_rows = [
                {
                    "event_id": event_key(r.event_id),
                    "value": float(r.value),
                    "received_at": r.received_at,
                }
                for _, r in fresh.values()
                if r is not None
            ]
            if reward_rows:
                conn.execute(insert(rewards), reward_rows)
        self.remember(stored)
        return ImportCounts(len(fresh), len(reward_rows))

    def get(self, event_id: str) -> Decision:
        """The decision logged under ``event_id`` (a signed id or a stored key).

        Raises:
            EventNotFoundError: No decision has this event id.
            StorageError: The database failed.
        """
        key = event_key(event_id)
        doing = f"read decision {event_id!r}"
        found = self._events(_BY_KEY, doing, {"key": key})
        if not found and self._on_miss is not None:
            self._on_miss()
            found = self._events(_BY_KEY, doing, {"key": key})
        if not found:
            raise _not_found(event_id)
        decision = found[0].decision
        return decision if key == event_id else replace(decision, event_id=event_id)

    def last_shown(self, user_id: str, title_ids: Iterable[str], since: datetime) -> dict[str, str]:
        """The variant each title last showed this member, for decisions made since ``since``.

        Args:
            user_id: The member.
            title_ids: Titles to look up (one query for all).
            since: Only decisions at or after this time count (timezone-aware).

        Returns:
            ``{title_id: variant_id}`` for the titles shown to the member since ``since``.

        Raises:
            StorageError: The database failed.
        """
        ids = set(title_ids)
        if not ids:
            return {}
        # The member's recent decisions, filtered here: a page asks about ~150 titles, and an
        # IN list that long costs more to bind than the few rows a member has in the window.
        # A returning member has a row for most of the page, so the rows are read as the
        # driver gives them, in chunks (a quarter of the time of SQLAlchemy's rows), and as
        # plain text (no JSON or datetime processing): a reference is kept as is, a list
        # decoded.
        latest: dict[str, tuple[str, int]] = {}
        with storage_errors(f"read decisions of member {user_id!r}"), self.engine.connect() as conn:
            statement, params = self._last_shown_statement(conn, user_id, since)
            rows = conn.exec_driver_sql(statement, params)
            while chunk := rows.fetchmany(_LAST_SHOWN_CHUNK):
                for title_id, text, chosen in chunk:
                    if title_id in ids and title_id not in latest:
                        latest[title_id] = (text, chosen)
                if len(latest) == len(ids):
                    break
            rows.close()
            # A title's actions are one stored text (a reference) on every page: its chosen
            # variant is worked out once per text and position.
            known = self._shown_variants
            shown: dict[str, str] = {}
            unknown: dict[str, tuple[str, int]] = {}
            for title_id, key in latest.items():
                variant = known.get(key)
                if variant is None:
                    unknown[title_id] = key
                else:
                    shown[title_id] = variant
            if unknown:
                refs = [t[1:-1] for t, _ in unknown.values() if t.startswith(_QUOTED_REF)]
                bodies = self._resolve_refs(conn, refs) if refs else {}
                if len(known) + len(unknown) > REF_CACHE_SIZE:
                    known.clear()
                for title_id, (text, chosen) in unknown.items():
                    variant = str(_action_ids(text, bodies)[chosen])
                    known[text, chosen] = variant
                    shown[title_id] = variant
        return shown

    def _last_shown_statement(
        self, conn: Connection, user_id: str, since: datetime
    ) -> tuple[str, Any]:
        """:data:`_LAST_SHOWN` as the driver's text and parameters (compiled once per
        dialect; ``since`` as the column type stores it)."""
        dialect = conn.dialect
        plan = self._last_shown_plans.get(dialect.name)
        if plan is None:
            compiled = _LAST_SHOWN.compile(dialect=dialect)
            stamp = decisions.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            plan = (str(compiled), order, stamp)
            self._last_shown_plans[dialect.name] = plan
        statement, order, stamp = plan
        values = {"user_id": user_id, "since": since if stamp is None else stamp(since)}
        return statement, values if order is None else tuple(values[name] for name in order)

    def impressions(self, title_ids: Iterable[str]) -> dict[str, int]:
        """How many decisions were logged for each title (0 for titles never shown).

        Raises:
            StorageError: The database failed.
        """
        return self.counts.impressions(title_ids)

    def takes(self, title_id: str) -> dict[str, int]:
        """How many of the title's decisions earned a positive reward, per chosen variant
        (rewards whose decision is not written yet are left out until it is).

        Reads the positive rewards with their decisions: the cost grows with the log's
        positive rewards, not with the title's decisions.

        Raises:
            StorageError: The database failed.
        """
        taken: Counter[str] = Counter()
        with storage_errors(f"read the rewards of {title_id!r}"), self.engine.connect() as conn:
            rows = conn.execute(_TAKES, {"title_id": title_id}).all()
            refs = [text[1:-1] for text, _ in rows if text.startswith(_QUOTED_REF)]
            bodies = self._resolve_refs(conn, refs) if refs else {}
        for text, chosen in rows:
            taken[str(_action_ids(text, bodies)[chosen])] += 1
        return dict(taken)

    def _count_logged(self) -> None:
        """Bring a log written before ``decision_counts`` existed up to date, once: count its
        decisions, and drop the index on ``decisions.title_id`` those databases have (see
        :mod:`artwork.bandit.decision_counts`).

        One cheap read on every other start. The decisions are counted without a lock (a
        large log takes a while: about 5 us a decision on SQLite), then, holding the table's
        write lock, those logged meanwhile are added and the counts written: a process
        starting at the same time waits for that short step and finds the counts in place.

        Raises:
            StorageError: The database failed.
        """
        with storage_errors("count the logged decisions"):
            with self.engine.connect() as conn:
                # Counts in place: counted, and the old index dropped in that same transaction.
                if conn.scalar(select(decision_counts.c.shown).limit(1)) is not None:
                    return
                logged = conn.scalar(select(decisions.c.seq).limit(1)) is not None
                indexed = _OLD_TITLE_INDEX in {
                    index["name"] for index in inspect(conn).get_indexes(decisions.name)
                }
            if not indexed and not logged:
                return
            totals: Counter[tuple[str, str]] = Counter()
            after = 0
            if logged:
                _logger.info("counting the decisions logged so far per title and variant")
                after = self._count_chosen(totals, after)
            with self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(
                        f"LOCK TABLE {decision_counts.name} IN SHARE ROW EXCLUSIVE MODE"
                    )
                else:  # any write takes SQLite's lock for the rest of the transaction
                    conn.execute(decision_counts.delete().where(decision_counts.c.shown < 0))
                if conn.scalar(select(decision_counts.c.shown).limit(1)) is None:
                    self._count_chosen(totals, after, conn)
                    self.counts.fill(conn, [(t, v, n) for (t, v), n in sorted(totals.items())])
                if indexed:
                    conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_OLD_TITLE_INDEX}")

    def _index_by_member_time(self) -> None:
        """Index a database's decisions by member and time, once (one cheap look on every
        other start), dropping the member index it had instead.

        Two processes starting together: on PostgreSQL the second waits for the first's
        lock on the table, on SQLite for its write lock (up to ``_REINDEX_WAIT_S``: indexing a
        large log takes a while), and finds the index in place.

        Raises:
            StorageError: The database failed.
        """
        name = str(_MEMBER_TIME_INDEX.name)
        with storage_errors("index the decisions by member and time"):
            with self.engine.connect() as conn:
                if inspect(conn).has_index(decisions.name, name):
                    return
            _logger.info("indexing the logged decisions by member and time (once)")
            with self.engine.begin() as conn:
                sqlite_wait_ms = None
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{_REINDEX_WAIT_S}s'")
                    conn.exec_driver_sql(f"LOCK TABLE {decisions.name} IN SHARE ROW EXCLUSIVE MODE")
                elif conn.dialect.name == "sqlite":
                    sqlite_wait_ms = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
                    conn.exec_driver_sql(f"PRAGMA busy_timeout = {_REINDEX_WAIT_S * 1000}")
                try:
                    # IF NOT EXISTS: another process may have made it since the look above.
                    conn.execute(CreateIndex(_MEMBER_TIME_INDEX, if_not_exists=True))
                    for old in _OLD_MEMBER_INDEXES:
                        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {old}")
                finally:
                    if sqlite_wait_ms is not None:  # the connection goes back to the pool
                        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(sqlite_wait_ms)}")

    def _count_chosen(
        self, totals: Counter[tuple[str, str]], after: int, conn: Connection | None = None
    ) -> int:
        """Add each decision after ``after`` to ``totals[(title_id, chosen variant)]``, read in
        ``conn`` or, without one, a connection per chunk; the last seq counted."""
        while True:
            with contextlib.nullcontext(conn) if conn else self.engine.connect() as reading:
                rows = reading.execute(_CHOSEN_AFTER, {"after": after}).all()
                refs = [text[1:-1] for _, _, text, _ in rows if text.startswith(_QUOTED_REF)]
                bodies = self._resolve_refs(reading, refs) if refs else {}
            if not rows:
                return after
            for _, title_id, text, chosen in rows:
                totals[(str(title_id), str(_action_ids(text, bodies)[chosen]))] += 1
            after = int(rows[-1][0])

    def count(self) -> int:
        """How many decisions are logged.

        Raises:
            StorageError: The database failed.
        """
        with storage_errors("count decisions"), self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(decisions)) or 0)

    # --- rewards ------------------------------------------------------------------------------
    def insert_rewards(
        self, conn: Connection, items: Sequence[tuple[str, float, datetime]]
    ) -> list[bool]:
        """Insert rewards ``(stored key, value, received_at)`` in the caller's transaction,
        each once: the group-commit path, with the window already checked against the
        signed event id. The decision may not be written yet; the learner joins it later.

        On PostgreSQL a batch is always one statement, atomic without a transaction: the
        reward writer runs it in autocommit (:class:`~artwork.bandit.writer.RewardWriter`).

        Returns:
            Per item, True if inserted, False if its event already had a reward.

        Raises:
            SQLAlchemyError: The database failed.
        """
        # One INSERT ... ON CONFLICT DO NOTHING RETURNING per batch (PostgreSQL) or per chunk
        # (multi-row VALUES elsewhere): a statement per reward cost a round trip (and a
        # statement build) each, which capped a PostgreSQL batch at a few hundred rewards a
        # second. An event twice in one batch: the first stands, as it would in two batches.
        first: dict[str, int] = {}
        for index, (key, _, _) in enumerate(items):
            first.setdefault(key, index)
        distinct = [items[index] for index in first.values()]
        if conn.dialect.name == "postgresql":
            inserted = self._insert_rewards_postgres(conn, distinct)
        else:
            inserted = self._insert_rewards_sqlite(conn, distinct)
        return [first[key] == index and key in inserted for index, (key, _, _) in enumerate(items)]

    def _insert_rewards_sqlite(
        self, conn: Connection, items: Sequence[tuple[str, float, datetime]]
    ) -> set[str]:
        """Insert distinct rewards into SQLite, a multi-row ``INSERT ... ON CONFLICT DO NOTHING
        RETURNING`` per chunk; the keys inserted.

        The statement's text is built once per number of rows and executed as is: building
        and compiling one for every batch (a few rewards each under load) cost more CPU in the
        writer thread than inserting and committing them.
        """
        dialect = conn.dialect
        stamp = rewards.c.received_at.type.dialect_impl(dialect).bind_processor(dialect)
        chunk = max(1, min(_REWARDS_PER_INSERT, max_variables() // 3))
        inserted: set[str] = set()
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            text = self._reward_inserts.get(len(part))
            if text is None:  # at most one text per chunk length: never more than `chunk`
                table = dialect.identifier_preparer.format_table(rewards)
                text = (
                    f"INSERT INTO {table} (event_id, value, received_at) VALUES "
                    f"{','.join(['(?, ?, ?)'] * len(part))} "
                    "ON CONFLICT DO NOTHING RETURNING event_id"
                )
                self._reward_inserts[len(part)] = text
            params: list[Any] = []
            for key, value, at in part:
                params += (key, float(value), stamp(at) if stamp is not None else at)
            inserted.update(conn.exec_driver_sql(text, tuple(params)).scalars())
        return inserted

    @staticmethod
    def _insert_rewards_postgres(
        conn: Connection, items: Sequence[tuple[str, float, datetime]]
    ) -> set[str]:
        """Insert distinct rewards into PostgreSQL in one statement; the keys inserted.

        The statement's text never changes (the rows go in as three arrays), so psycopg
        prepares it once and nothing is compiled per batch: a multi-row ``VALUES`` statement
        built and compiled for every batch cost about 70 us of CPU a reward in the writer
        thread, most of a commit's CPU, on a core the requests share.
        """
        received = UTCDateTime()
        result = conn.exec_driver_sql(
            _postgres_rewards_insert(conn),
            (
                [key for key, _, _ in items],
                [float(value) for _, value, _ in items],
                [received.process_bind_param(at, conn.dialect) for _, _, at in items],
            ),
        )
        return set(result.scalars())

    def record_reward(
        self,
        event_id: str,
        value: float,
        received_at: datetime,
        *,
        wait_s: float | None = None,
    ) -> bool:
        """Record the reward of an event, once, and only within its wait window.

        Args:
            event_id: Event id of a logged decision.
            value: Finite reward.
            received_at: When the reward arrived (timezone-aware).
            wait_s: When given, a reward arriving more than ``wait_s`` seconds after its
                decision is refused: the learner has taken (or will take) the default reward.

        Returns:
            True if recorded; False if this event already had a reward (the first one stands,
            even when the repeat comes after the window).

        Raises:
            ValueError: ``value`` is not finite, ``received_at`` is naive or ``wait_s`` < 0.
            EventNotFoundError: No decision has this event id.
            RewardWindowClosedError: The reward came after the window and none was recorded.
            StorageError: The database failed.
        """
        if not math.isfinite(value):
            raise ValueError(f"value must be finite, got {value}")
        if received_at.tzinfo is None:
            raise ValueError(f"received_at must be timezone-aware, got {received_at!r}")
        if wait_s is not None and not wait_s >= 0:
            raise ValueError(f"wait_s must be >= 0, got {wait_s}")
        key = event_key(event_id)
        lookup = (
            select(decisions.c.created_at, rewards.c.value)
            .select_from(decisions.outerjoin(rewards, rewards.c.event_id == decisions.c.event_id))
            .where(decisions.c.event_id == key)
        )
        row = {"event_id": key, "value": float(value), "received_at": received_at}
        try:
            with storage_errors(f"record reward of {event_id!r}"), self.engine.begin() as conn:
                found = conn.execute(lookup).first()
                if found is None:
                    raise _not_found(event_id)
                if found.value is not None:
                    return False
                created_at: datetime = found.created_at
                if wait_s is not None and received_at > created_at + timedelta(seconds=wait_s):
                    late = (received_at - created_at).total_seconds()
                    raise RewardWindowClosedError(
                        f"the reward of event {event_id!r} came {late:.0f} s after its decision, "
                        f"after the {wait_s:g} s reward wait window (ARTWORK_REWARD_WAIT_S); the "
                        "default reward applies to it"
                    )
                conn.execute(insert(rewards).values(**row))
            return True
        except StorageError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                # Another request recorded this event's reward first: the first one stands.
                return False
            raise

    def record_rewards(self, items: Sequence[tuple[str, float, datetime]]) -> list[bool]:
        """:meth:`insert_rewards` in a transaction of its own.

        Raises:
            StorageError: The database failed.
        """
        with storage_errors(f"record {len(items)} rewards"), self.engine.begin() as conn:
            return self.insert_rewards(conn, items)

    def get_reward(self, event_id: str) -> Reward | None:
        """The reward recorded for ``event_id``, or None if none was.

        Raises:
            StorageError: The database failed.
        """
        with storage_errors(f"read reward of {event_id!r}"), self.engine.connect() as conn:
            row = (
                conn.execute(select(rewards).where(rewards.c.event_id == event_key(event_id)))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return Reward(event_id, row["value"], row["received_at"])

    def reward_of(self, event_id: str) -> float | None:
        """The reward value recorded for ``event_id``, or None if none was.

        Raises:
            StorageError: The database failed.
        """
        reward = self.get_reward(event_id)
        return None if reward is None else reward.value

    # --- reading the log in order (learner, evaluation, export) -----------------------------
    def events_after(self, cursor: int, limit: int) -> list[LoggedEvent]:
        """Decisions after ``cursor`` in log order, each with its reward if any.

        Args:
            cursor: A seq; only decisions with a larger seq are returned.
            limit: At most this many.

        Raises:
            ValueError: ``limit`` < 1.
            StorageError: The database failed.
        """
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        query = _joined().where(decisions.c.seq > cursor).order_by(decisions.c.seq).limit(limit)
        return self._events(query)

    def events_at(self, seqs: Iterable[int]) -> list[LoggedEvent]:
        """The decisions with these seqs, in log order, each with its reward if any.

        Raises:
            StorageError: The database failed.
        """
        found: list[LoggedEvent] = []
        for chunk in _seq_chunks(seqs):
            found += self._events(
                _joined().where(decisions.c.seq.in_(chunk)).order_by(decisions.c.seq)
            )
        return found

    def stubs_after(self, cursor: int, limit: int) -> list[EventStub]:
        """:class:`EventStub` s of the decisions after ``cursor``, in log order (a light query:
        the learner reads a decision's features only once it is ready to learn).

        Raises:
            ValueError: ``limit`` < 1.
            StorageError: The database failed.
        """
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        return self._stubs(
            _stubs().where(decisions.c.seq > cursor).order_by(decisions.c.seq).limit(limit)
        )

    def stubs_at(self, seqs: Iterable[int]) -> list[EventStub]:
        """:class:`EventStub` s of the decisions with these seqs, in log order.

        Raises:
            StorageError: The database failed.
        """
        found: list[EventStub] = []
        for chunk in _seq_chunks(seqs):
            found += self._stubs(
                _stubs().where(decisions.c.seq.in_(chunk)).order_by(decisions.c.seq)
            )
        return found

    def _stubs(self, query: Any) -> list[EventStub]:
        with storage_errors("read the decision log"), self.engine.connect() as conn:
            return [
                EventStub(int(seq), created_at, rewarded is not None)
                for seq, created_at, rewarded in conn.execute(query)
            ]

    def seqs_within(self, ranges: Sequence[tuple[int, int]]) -> list[int]:
        """Seqs of the decisions with ``low < seq <= high`` for any ``(low, high)`` of
        ``ranges``, in log order (index-only queries, up to 100 ranges each).

        Raises:
            StorageError: The database failed.
        """
        found: set[int] = set()
        with storage_errors("read the decision log"), self.engine.connect() as conn:
            for start in range(0, len(ranges), 100):
                within = or_(
                    *(
                        and_(decisions.c.seq > low, decisions.c.seq <= high)
                        for low, high in ranges[start : start + 100]
                    )
                )
                found.update(
                    int(seq) for seq in conn.scalars(select(decisions.c.seq).where(within))
                )
        return sorted(found)

    def rewards_since(
        self, cursor: int, received_since: datetime, limit: int
    ) -> list[tuple[int, datetime]]:
        """``(seq, received_at)`` of rewarded decisions after ``cursor`` whose reward came at or
        after ``received_since``, oldest reward first (a light query; see :meth:`events_at`).

        Raises:
            ValueError: ``limit`` < 1.
            StorageError: The database failed.
        """
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        query = (
            select(decisions.c.seq, rewards.c.received_at)
            .select_from(rewards.join(decisions, decisions.c.event_id == rewards.c.event_id))
            .where(rewards.c.received_at >= received_since)
            .where(decisions.c.seq > cursor)
            .order_by(rewards.c.received_at, decisions.c.seq)
            .limit(limit)
        )
        with storage_errors("read rewards"), self.engine.connect() as conn:
            return [(int(row.seq), row.received_at) for row in conn.execute(query)]

    def iter_events(self, after: int = 0, chunk: int = 1000) -> Iterator[LoggedEvent]:
        """Every decision after seq ``after`` in log order, with its reward, read in chunks.

        Raises:
            ValueError: ``chunk`` < 1.
            StorageError: The database failed.
        """
        cursor = after
        while True:
            batch = self.events_after(cursor, chunk)
            yield from batch
            if len(batch) < chunk:
                return
            cursor = batch[-1].seq

    def rewarded_seqs(self) -> set[int]:
        """Seqs of every rewarded decision (to adopt snapshots of older artwork).

        Raises:
            StorageError: The database failed.
        """
        query = select(decisions.c.seq).select_from(
            rewards.join(decisions, decisions.c.event_id == rewards.c.event_id)
        )
        with storage_errors("read rewards"), self.engine.connect() as conn:
            return {int(seq) for seq in conn.scalars(query)}

    def _events(
        self, query: Any, doing: str = "read the decision log", params: Any = None
    ) -> list[LoggedEvent]:
        """The decisions a query of :func:`_joined` finds, complete, with their rewards."""
        with storage_errors(doing), self.engine.connect() as conn:
            rows = conn.execute(query, params).mappings().all()
            decoded = []
            refs: list[str] = []
            for row in rows:
                probabilities = row["probabilities"]
                policy = row["policy"]
                values = (
                    self._decode(row["context"]),
                    self._decode(row["action_ids"]),
                    self._decode(row["action_features"]),
                    _WITH_OTHER if probabilities == _WITH_OTHER else json.loads(probabilities),
                    # A reference repeats; inline fields differ from decision to decision.
                    self._decode(policy) if policy.startswith('"') else json.loads(policy),
                )
                decoded.append(values)
                refs += [v for v in values if _is_ref(v)]
                if isinstance(values[4], list) and values[4] and _is_ref(values[4][0]):
                    refs.append(values[4][0])
            bodies = self._resolve_refs(conn, refs)
            # A decision's shared body names its configuration: a second, smaller round.
            nested = [bodies[values[4]][0] for values in decoded if _is_ref(values[4])]
            if nested:
                bodies.update(self._resolve_refs(conn, nested))
        events = []
        for row, values in zip(rows, decoded, strict=True):
            value = row["reward_value"]
            reward = (
                None if value is None else Reward(row["event_id"], float(value), row["received_at"])
            )
            decision = _decision(row, *values, bodies)
            events.append(LoggedEvent(int(row["seq"]), decision, reward))
        return events

    def _decode(self, text: str) -> Any:
        """JSON text as Python values, decoded once per distinct text (lists become tuples).

        The same text gives the same object, so a policy's example cache recognises a title's
        actions by identity. Nobody may mutate what this returns.
        """
        value = self._decoded.get(text)
        if value is None:
            loaded = json.loads(text)
            value = tuple(loaded) if isinstance(loaded, list) else loaded
            with self._decoded_lock:
                if len(self._decoded) >= DECODED_CACHE_SIZE:
                    self._decoded.clear()
                self._decoded[text] = value
        return value


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _not_found(event_id: str) -> EventNotFoundError:
    return EventNotFoundError(
        f"unknown event id {event_id!r}: no artwork decision was logged under it; "
        "event ids come from artwork responses (the event_id next to each image)"
    )


def _columns() -> list[Any]:
    """Decision columns with the JSON ones as raw text (decoded, and cached, by the log)."""
    raw = ("context", "action_ids", "action_features", "probabilities", "policy")
    return [
        cast(column, Text).label(column.name) if column.name in raw else column
        for column in decisions.columns
    ] + [rewards.c.value.label("reward_value"), rewards.c.received_at]


def _seq_chunks(seqs: Iterable[int], size: int = 500) -> Iterator[list[int]]:
    """Distinct seqs in increasing order, ``size`` at a time (one IN list each)."""
    wanted = sorted(set(seqs))
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]


def _stubs() -> Any:
    return select(decisions.c.seq, decisions.c.created_at, rewards.c.event_id).select_from(
        decisions.outerjoin(rewards, rewards.c.event_id == decisions.c.event_id)
    )


def _joined() -> Any:
    return select(*_columns()).select_from(
        decisions.outerjoin(rewards, rewards.c.event_id == decisions.c.event_id)
    )


#: A member's decisions since a time, newest first, with the actions as stored JSON text.
#: Read ``_LAST_SHOWN_CHUNK`` rows at a time, until every title asked about is found.
_LAST_SHOWN_CHUNK = 256
_LAST_SHOWN = (
    select(decisions.c.title_id, cast(decisions.c.action_ids, Text), decisions.c.chosen_index)
    .where(decisions.c.user_id == bindparam("user_id"))
    .where(decisions.c.created_at >= bindparam("since", type_=decisions.c.created_at.type))
    .order_by(decisions.c.created_at.desc(), decisions.c.seq.desc())
)
_CHOSEN_AFTER = (
    select(
        decisions.c.seq,
        decisions.c.title_id,
        cast(decisions.c.action_ids, Text),
        decisions.c.chosen_index,
    )
    .where(decisions.c.seq > bindparam("after"))
    .order_by(decisions.c.seq)
    .limit(10_000)
)
# Driven by the positive rewards, each looking up its decision by key: as a plain join,
# SQLite's planner scans the decisions instead.
_TAKES = (
    select(cast(decisions.c.action_ids, Text), decisions.c.chosen_index)
    .where(decisions.c.event_id.in_(select(rewards.c.event_id).where(rewards.c.value > 0)))
    .where(decisions.c.title_id == bindparam("title_id"))
)
_OLD_TITLE_INDEX = "ix_decisions_title"
"""The index on ``decisions.title_id`` that databases created before ``decision_counts`` have."""
_MEMBER_TIME_INDEX = next(i for i in decisions.indexes if i.name == "ix_decisions_user_time")
"""A member's decisions by time (:data:`_LAST_SHOWN`)."""
_OLD_MEMBER_INDEXES = ("ix_decisions_user", "ix_decisions_user_title")
"""The indexes of a member's decisions older databases have instead (dropped when indexing)."""
_REINDEX_WAIT_S = 600
"""Longest wait, while the decisions are indexed, for another process indexing them."""
_BY_KEY = _joined().where(decisions.c.event_id == bindparam("key"))
"""One decision by its stored key (built once: :meth:`DecisionLog.get` serves API reads)."""


def _check_decision(decision: Decision) -> None:
    count = len(decision.action_ids)
    if count == 0:
        raise ValueError(f"decision {decision.event_id!r}: action_ids must not be empty")
    if len(decision.action_features) != count or len(decision.probabilities) != count:
        raise ValueError(
            f"decision {decision.event_id!r}: action_ids, action_features and probabilities "
            f"must have the same length, got {count}, {len(decision.action_features)}, "
            f"{len(decision.probabilities)}"
        )
    if not 0 <= decision.chosen_index < count:
        raise ValueError(
            f"decision {decision.event_id!r}: chosen_index must be in 0..{count - 1}, "
            f"got {decision.chosen_index}"
        )
    probabilities = decision.probabilities
    if not 0.0 < probabilities[decision.chosen_index] <= 1.0:
        raise ValueError(
            f"decision {decision.event_id!r}: the chosen action's probability must be in "
            f"(0, 1], got {decision.chosen_probability}"
        )
    # A sum is finite only if every term is (none below 0 can cancel an infinity), and a NaN
    # that min() passes over makes the sum NaN.
    total = sum(probabilities)
    if not (min(probabilities) >= 0.0 and math.isfinite(total)):
        raise ValueError(
            f"decision {decision.event_id!r}: every probability must be finite and >= 0"
        )
    if abs(total - 1.0) > 1e-6:
        raise ValueError(
            f"decision {decision.event_id!r}: probabilities must sum to 1, got {total!r}"
        )
    if decision.created_at.tzinfo is None:
        raise ValueError(f"decision {decision.event_id!r}: created_at must be timezone-aware")


def _is_ref(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(REF_PREFIX)


def _decision(
    row: RowMapping,
    context: Any,
    action_ids: Any,
    features: Any,
    probabilities: Any,
    policy: Any,
    bodies: Mapping[str, Any],
) -> Decision:
    """A decision from its row's decoded columns, references resolved from ``bodies``."""
    if _is_ref(context):
        context = bodies[context]
    if _is_ref(action_ids):
        action_ids = bodies[action_ids]
    if type(features) is int:  # JSON 0: the title's ids and features are one body
        action_ids, features = action_ids
    elif _is_ref(features):
        features = bodies[features]
    if _is_ref(policy):
        config, probabilities, extra, sticky = bodies[policy]
        if type(sticky) is int:
            sticky = action_ids[sticky]
        policy = (config, extra, sticky)
    if isinstance(policy, (list, tuple)) and policy and isinstance(policy[0], str):
        config = dict(bodies[policy[0]])
        for name, field in zip(_PER_DECISION_POLICY, policy[1:], strict=True):
            if field is not None:
                config[name] = field
    else:
        config = dict(policy)
    return Decision(
        event_id=row["event_id"],
        created_at=row["created_at"],
        user_id=row["user_id"],
        title_id=row["title_id"],
        context=context,
        action_ids=action_ids,
        action_features=features,
        probabilities=tuple(probabilities),
        chosen_index=row["chosen_index"],
        model_version=row["model_version"],
        policy=config,
    )


def _action_ids(text: str, bodies: Mapping[str, Any]) -> Sequence[Any]:
    """A decision's action ids from its ``action_ids`` column as text: a reference to its
    ids (older rows) or to its ids and features (resolved in ``bodies``), or the ids inline."""
    if text.startswith(_QUOTED_REF):
        actions = bodies[text[1:-1]]
        if actions and isinstance(actions[0], tuple):
            return actions[0]  # the title's ids and features in one body
        return actions
    return json.loads(text)


def _decoded_body(stored: str) -> Any:
    """A stored body as Python values: lists become tuples, at the top and one level down
    (a title's ids and features, a decision's probabilities)."""
    loaded = json.loads(_body_text(stored))
    if isinstance(loaded, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in loaded)
    return loaded


_STRING_TEXT: dict[str, str] = {}


def _json_value(value: Any) -> str:
    """A value's JSON text, as ``json.dumps`` writes it (float repr is JSON when finite)."""
    if type(value) is float and math.isfinite(value):
        return repr(value)
    if type(value) is str:
        text = _STRING_TEXT.get(value)
        if text is None:  # sticky variant ids: a few thousand distinct ones
            if len(_STRING_TEXT) >= REF_CACHE_SIZE:
                _STRING_TEXT.clear()
            text = _STRING_TEXT[value] = json.dumps(value, ensure_ascii=False)
        return text
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _floats(values: Iterable[float]) -> str:
    """Floats as a JSON list (float repr is JSON; non-finite values were refused before)."""
    return "[" + ",".join([repr(float(v)) for v in values]) + "]"


def _stored_body(text: str) -> tuple[str, str]:
    """The reference of a body's JSON text, and the text to store: compressed when that is
    shorter (the reference is the hash of the JSON, however it is stored)."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    ref = REF_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    if len(text) >= COMPRESS_FROM:
        # A 4 KB window and small state: bodies are a few KB, and zlib.compress's defaults
        # (32 KB window, 256 KB of state set up per call) cost ~70 us a body where this costs
        # ~10-15, for the same size. zlib.decompress reads either.
        deflate = zlib.compressobj(6, zlib.DEFLATED, 12, 4)
        data = deflate.compress(text.encode()) + deflate.flush()
        packed = _COMPRESSED + base64.b64encode(data).decode("ascii")
        if len(packed) < len(text):
            return ref, packed
    return ref, text


def _body_text(stored: str) -> str:
    """The JSON text of a stored body."""
    if stored.startswith(_COMPRESSED):
        return zlib.decompress(base64.b64decode(stored[len(_COMPRESSED) :])).decode()
    return stored
