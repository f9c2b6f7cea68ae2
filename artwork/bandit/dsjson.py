"""Decision logs as Vowpal Wabbit DSJSON, the format of VW's ``--dsjson`` and Personalizer logs.

One JSON object per line and per decision::

    {"EventId": "...", "Timestamp": "2026-03-14T20:15:09.123456Z", "Version": "1",
     "_label_cost": -1.0, "_label_probability": 0.05, "_label_Action": 3, "_labelIndex": 2,
     "a": [3, 1, 2, 4], "p": [0.05, 0.85, 0.05, 0.05],
     "c": {"member": {"id=u1": 1}, "context": {...}, "history": {...},
           "_multi": [{"_id": "variant id", "variant": {...}, "quality": {...}}, ...]},
     "VWState": {"m": "vw_epsilon_greedy/41"},
     "_artwork": {"user_id": ..., "title_id": ..., "model_version": ..., "policy": {...},
                  "reward_received_at": ...}}

``a`` lists every action (1-based index into ``c._multi``), the shown one first; ``p`` their
probabilities in that order; the label carries the cost (``-reward``), the shown action
(``_label_Action``, 1-based; ``_labelIndex``, 0-based) and its probability. Feature names
are written escaped exactly as the text format renders them, so ``vw --cb_explore_adf --dsjson``
on an export hashes every feature as artwork's learner does. Export writes the resolved events
(rewarded, or past their wait window with the default reward).

Import reads artwork's exports losslessly and DSJSON from other systems as well as it can: string
values become ``key`` + ``value`` features (as VW reads them), top-level scalars go to the
default namespace, missing ``_artwork`` fields become ``unknown``, and a label cost is a
recorded reward (artwork's own exports mark the default rewards they labelled, which stay
unrecorded). Probabilities: ``a`` may list the actions in any order, and ``p`` is read aligned
with ``a`` (``p[i]`` is the probability of action ``a[i]``), checked against
``_label_probability``; ``_labelIndex`` and ``_label_Action`` must name the same action.
Actions ``a`` leaves out share what ``p`` leaves. Without ``a`` and ``p`` only the shown
action's probability is known: the others get an even share of the rest and the decision's
policy is marked ``pmf: partial``, so off-policy evaluation never reads them. Inconsistent
events are refused with their line number. Events already in the log are skipped, so an
import can be repeated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from artwork.bandit.features import DEFAULT_NAMESPACE, escape_feature_name
from artwork.bandit.log import DecisionLog, LoggedEvent
from artwork.bandit.ope.base import PARTIAL_PMF
from artwork.config import Settings
from artwork.domain import Decision, Reward
from artwork.errors import ImportFormatError

_SUM_TOLERANCE = 1e-3
"""How far from 1 a logged ``p`` may sum (loggers round); it is then normalised."""

IMPORT_CHUNK = 500
"""Decisions written per transaction on import."""


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote and left out."""

    exported: int
    pending: int


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import added and skipped."""

    imported: int
    rewards: int
    skipped: int


def to_dsjson(event: LoggedEvent, reward: float) -> dict[str, Any]:
    """One logged decision and its reward as a DSJSON object.

    Args:
        event: The logged decision (and its recorded reward, if any).
        reward: The reward to label it with (the recorded one, or the default).
    """
    decision = event.decision
    chosen = decision.chosen_index
    order = [chosen] + [i for i in range(len(decision.action_ids)) if i != chosen]
    context: dict[str, Any] = {
        escape_feature_name(ns): _escaped(features) for ns, features in decision.context.items()
    }
    context["_multi"] = [
        {"_id": action_id} | {escape_feature_name(ns): _escaped(f) for ns, f in features.items()}
        for action_id, features in zip(decision.action_ids, decision.action_features, strict=True)
    ]
    received = event.reward.received_at if event.reward is not None else None
    return {
        "EventId": decision.event_id,
        "Timestamp": _timestamp(decision.created_at),
        "Version": "1",
        "_label_cost": -float(reward),
        "_label_probability": decision.chosen_probability,
        "_label_Action": chosen + 1,
        "_labelIndex": chosen,
        "a": [i + 1 for i in order],
        "p": [decision.probabilities[i] for i in order],
        "c": context,
        "VWState": {"m": f"{decision.policy.get('name', 'unknown')}/{decision.model_version}"},
        "_artwork": {
            "user_id": decision.user_id,
            "title_id": decision.title_id,
            "model_version": decision.model_version,
            "policy": dict(decision.policy),
            "reward_received_at": None if received is None else _timestamp(received),
        },
    }


def export_dsjson(
    log: DecisionLog, out: IO[str], settings: Settings, now: datetime
) -> ExportReport:
    """Write every resolved decision of the log as one DSJSON line, in log order.

    Args:
        log: The decision log.
        out: A text stream.
        settings: ``reward_wait_s`` and ``default_reward``.
        now: Decisions younger than the wait window without a reward are left out (pending).

    Raises:
        StorageError: The database failed.
    """
    closed_before = now - timedelta(seconds=settings.reward_wait_s)
    exported = pending = 0
    for event in log.iter_events():
        if event.reward is not None:
            reward = event.reward.value
        elif event.decision.created_at <= closed_before:
            reward = settings.default_reward
        else:
            pending += 1
            continue
        out.write(json.dumps(to_dsjson(event, reward), separators=(",", ":")) + "\n")
        exported += 1
    return ExportReport(exported, pending)


def read_dsjson(path: Path) -> Iterator[tuple[Decision, Reward | None]]:
    """Parse a DSJSON file into decisions and rewards (checking every line first).

    Raises:
        ImportFormatError: The file cannot be read, or a line is not a usable DSJSON event
            (its line number and the reason in the message).
    """
    try:
        with path.open(encoding="utf-8") as handle:
            lines = handle.readlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFormatError(f"cannot read {path}: {exc}") from exc
    parsed = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            parsed.append(from_dsjson(json.loads(line)))
        except (ValueError, TypeError, KeyError) as exc:
            raise ImportFormatError(f"{path}:{number}: not a usable DSJSON event: {exc}") from exc
    yield from parsed


def import_dsjson(log: DecisionLog, path: Path) -> ImportReport:
    """Add the events of a DSJSON file to the decision log (skipping known event ids).

    Raises:
        ImportFormatError: The file is not DSJSON (nothing is imported).
        StorageError: The database failed.
    """
    items = list(read_dsjson(path))
    imported = rewards = skipped = 0
    for start in range(0, len(items), IMPORT_CHUNK):
        chunk = items[start : start + IMPORT_CHUNK]
        added = log.import_events(chunk)
        imported += added.decisions
        rewards += added.rewards
        skipped += len(chunk) - added.decisions
    return ImportReport(imported, rewards, skipped)


def from_dsjson(data: Any) -> tuple[Decision, Reward | None]:
    """One DSJSON object as a decision and its reward (None when it has no label cost).

    Raises:
        ValueError, KeyError, TypeError: The object is not a usable DSJSON event.
    """
    if not isinstance(data, dict):
        raise TypeError("a line must hold a JSON object")
    event_id = str(data["EventId"])
    if not event_id or len(event_id) > 64:
        raise ValueError(f"EventId must have 1 to 64 characters, got {event_id!r}")
    created_at = _parse_timestamp(str(data["Timestamp"]))
    context = data["c"]
    if not isinstance(context, dict):
        raise TypeError("c must be an object")
    multi = context.get("_multi")
    if not isinstance(multi, list) or not multi:
        raise ValueError("c._multi must list at least one action")
    shared = _namespaces(context)
    actions = tuple(_namespaces(action) for action in multi)
    action_ids = tuple(
        str(action.get("_id", index + 1)) if isinstance(action, dict) else str(index + 1)
        for index, action in enumerate(multi)
    )
    count = len(actions)
    chosen = _chosen(data, count)
    probabilities, complete = _probabilities(data, chosen, count)
    meta = data.get("_artwork") if isinstance(data.get("_artwork"), dict) else {}
    assert isinstance(meta, dict)
    state = data.get("VWState")
    source = str(state.get("m", "dsjson")) if isinstance(state, dict) else "dsjson"
    policy = meta.get("policy")
    decision = Decision(
        event_id=event_id,
        created_at=created_at,
        user_id=str(meta.get("user_id") or "unknown"),
        title_id=str(meta.get("title_id") or "unknown"),
        context=shared,
        action_ids=action_ids,
        action_features=actions,
        probabilities=probabilities,
        chosen_index=chosen,
        model_version=int(meta.get("model_version", 0)),
        policy=(_policy(policy) if isinstance(policy, dict) else {"name": "imported", "m": source})
        | ({} if complete else {"pmf": PARTIAL_PMF}),
    )
    reward = None
    # artwork's own exports label unrewarded events with the default reward (for VW); they
    # say so with reward_received_at None, and come back without a recorded reward.
    defaulted = "reward_received_at" in meta and meta["reward_received_at"] is None
    if data.get("_label_cost") is not None and not defaulted:
        cost = float(data["_label_cost"])
        if not math.isfinite(cost):
            raise ValueError("_label_cost must be finite")
        received_raw = meta.get("reward_received_at")
        received = _parse_timestamp(str(received_raw)) if received_raw else created_at
        reward = Reward(event_id, -cost + 0.0, received)
    return decision, reward


def _chosen(data: Mapping[str, Any], count: int) -> int:
    """The shown action's 0-based index into ``c._multi``.

    ``_labelIndex`` is 0-based and ``_label_Action`` 1-based (VW places the label by
    ``_labelIndex``); Personalizer writes both, and they must agree.
    """
    index, action = data.get("_labelIndex"), data.get("_label_Action")
    if index is None and action is None:
        raise KeyError("_label_Action (or _labelIndex)")
    by_index = None if index is None else _integer(index, "_labelIndex")
    by_action = None if action is None else _integer(action, "_label_Action") - 1
    if by_index is not None and by_action is not None and by_index != by_action:
        raise ValueError(
            f"_labelIndex {by_index} (0-based) and _label_Action {by_action + 1} (1-based) "
            "name different actions"
        )
    chosen = by_index if by_index is not None else by_action
    assert chosen is not None
    if not 0 <= chosen < count:
        raise ValueError(f"the labelled action must be one of the {count} actions")
    return chosen


def _probabilities(
    data: Mapping[str, Any], chosen: int, count: int
) -> tuple[tuple[float, ...], bool]:
    """The logging distribution over ``c._multi``, and whether the log gave all of it.

    ``a`` lists 1-based action indices in any order (VW writes the shown one first) and ``p``
    the probability of each, aligned with ``a``. Actions ``a`` leaves out share what ``p``
    leaves (nothing, if ``p`` sums to 1). Without ``a`` and ``p`` only the shown action's
    probability (``_label_probability``) is known; the rest is spread evenly and the
    distribution is marked partial, so evaluation uses only the shown probability.
    """
    label_raw = data.get("_label_probability")
    label = None if label_raw is None else float(label_raw)
    if label is not None and not (math.isfinite(label) and 0.0 < label <= 1.0):
        raise ValueError(f"_label_probability must be in (0, 1], got {label_raw!r}")
    actions, probs = data.get("a"), data.get("p")
    if isinstance(actions, list) and isinstance(probs, list):
        if len(actions) != len(probs):
            raise ValueError(f"a has {len(actions)} entries but p has {len(probs)}")
        given: dict[int, float] = {}
        for action, probability in zip(actions, probs, strict=True):
            index = _integer(action, "an entry of a") - 1
            if not 0 <= index < count:
                raise ValueError(f"a names action {action}, but there are {count}")
            if index in given:
                raise ValueError(f"a names action {action} twice")
            value = float(probability)
            if not (math.isfinite(value) and 0.0 <= value <= 1.0 + _SUM_TOLERANCE):
                raise ValueError(f"p must hold probabilities in [0, 1], got {probability!r}")
            given[index] = value
        if chosen not in given:
            raise ValueError(f"a does not list the labelled action {chosen + 1}")
        if label is not None and not math.isclose(given[chosen], label, rel_tol=1e-4, abs_tol=1e-6):
            position = [_integer(a, "a") - 1 for a in actions].index(chosen)
            raise ValueError(
                f"p gives the labelled action {chosen + 1} (a[{position}]) probability "
                f"{given[chosen]}, _label_probability says {label}: p must be aligned with a"
            )
        total = math.fsum(given.values())
        missing = [i for i in range(count) if i not in given]
        rest = 1.0 - total
        if rest < -_SUM_TOLERANCE or (not missing and rest > _SUM_TOLERANCE):
            raise ValueError(f"p must sum to 1, got {total}")
        complete = not missing or rest <= _SUM_TOLERANCE
        values = [
            given.get(i, max(rest, 0.0) / len(missing) if missing else 0.0) for i in range(count)
        ]
    else:
        if label is None:
            raise KeyError("_label_probability (or a and p)")
        complete = count == 1
        rest = (1.0 - label) / (count - 1) if count > 1 else 0.0
        values = [rest] * count
        values[chosen] = label
    if not values[chosen] > 0:
        raise ValueError("the shown action needs a probability > 0")
    total = math.fsum(values)
    if abs(total - 1.0) <= 1e-9:
        return tuple(values), complete  # as logged, to the last bit
    return tuple(v / total for v in values), complete


def _integer(value: Any, what: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not float(value).is_integer()
    ):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    return int(value)


def _namespaces(obj: Any) -> dict[str, dict[str, float]]:
    """Features of a DSJSON context or action object, by namespace."""
    if not isinstance(obj, dict):
        raise TypeError("contexts and actions must be objects")
    spaces: dict[str, dict[str, float]] = {}
    for key, value in obj.items():
        if key.startswith("_"):
            continue  # VW ignores these too (_multi, _id, _text, ...)
        if isinstance(value, dict):
            space = spaces.setdefault(unquote(key), {})
            for name, item in value.items():
                _feature(space, name, item)
        else:
            _feature(spaces.setdefault(DEFAULT_NAMESPACE, {}), key, value)
    return {namespace: features for namespace, features in spaces.items() if features}


def _feature(space: dict[str, float], name: str, value: Any) -> None:
    if name.startswith("_"):
        return
    if isinstance(value, bool):
        if value:
            space[unquote(name)] = 1.0
    elif isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"feature {name!r} must be finite")
        space[unquote(name)] = number
    elif isinstance(value, str):
        space[unquote(name + value)] = 1.0  # VW's reading of "name": "value"
    elif value is None:
        return
    else:
        raise TypeError(f"feature {name!r}: nested arrays and objects are not supported")


def _policy(policy: Mapping[str, Any]) -> dict[str, str | float]:
    return {
        str(k): v if isinstance(v, str) else float(v)
        for k, v in policy.items()
        if isinstance(v, str | int | float) and not isinstance(v, bool)
    }


def _escaped(features: Mapping[str, float]) -> dict[str, float]:
    return {escape_feature_name(name): value for name, value in features.items()}


def _timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_timestamp(text: str) -> datetime:
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    main, dot, rest = value.partition(".")
    if dot:
        # Personalizer writes 7 fractional digits; Python reads at most 6.
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits) :]
        value = f"{main}.{digits[:6]}{zone}"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
