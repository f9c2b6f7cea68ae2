"""Decision logs as VW DSJSON: VW reads the export exactly as artwork's learner reads the log,
the round trip is lossless, and logs of other systems import."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import vowpal_wabbit_next as vw
from sqlalchemy import Engine

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.dsjson import export_dsjson, from_dsjson, import_dsjson
from artwork.bandit.features import vw_example_lines
from artwork.bandit.log import DecisionLog
from artwork.catalog.database import create_database_engine
from artwork.config import Settings
from artwork.domain import Context, MemberProfile, Variant, VariantStatus
from artwork.errors import ImportFormatError

NOW = datetime(2026, 3, 14, 20, 0, tzinfo=UTC)
SETTINGS = Settings(reward_wait_s=600.0, consistency_window_s=0.0)


def make_variants(title_id: str) -> list[Variant]:
    return [
        Variant(
            variant_id=f"{title_id}-v{i}",
            title_id=title_id,
            rank=i,
            frame_time_s=float(i),
            score=0.5 + i / 10,
            scores={"sharpness": 0.3 * i, "face_area": 0.1},
            tags={"close-up face": 0.9, "a|b:c": 0.5} if i else {"landscape": 1.0},
            embedder="test",
            image_path="x.jpg",
            width=1,
            height=1,
            status=VariantStatus.APPROVED,
            embedding=np.linspace(-1, 1, 16).astype(np.float32) * (i + 1),
        )
        for i in range(3)
    ]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path}/a.db")
    yield engine
    engine.dispose()


@pytest.fixture
def log(engine: Engine) -> DecisionLog:
    """Six decisions an hour old (two rewarded) and one still pending."""
    clock = {"now": NOW - timedelta(hours=1)}
    bandit = ArtworkBandit(
        engine, SETTINGS, rng=np.random.default_rng(4), clock=lambda: clock["now"]
    )
    profile = MemberProfile({"drama": 1.0}, {"close-up face": 0.5})
    for n in range(6):
        context = Context(f"u {n}", "tv", 20, 5, "nl", profile if n % 2 else None)
        decision = bandit.choose(context, f"t{n % 2}", make_variants(f"t{n % 2}"))
        if n % 3 == 0:
            bandit.reward(decision.event_id, 1.0 if n else 0.25)
    clock["now"] = NOW
    bandit.choose(Context("late", "tv", 20, 5), "t0", make_variants("t0"))
    bandit.log._clock = lambda: NOW
    return bandit.log


def exported(log: DecisionLog) -> list[str]:
    out = io.StringIO()
    report = export_dsjson(log, out, SETTINGS, NOW)
    assert (report.exported, report.pending) == (6, 1)
    return out.getvalue().splitlines()


def test_vw_reads_the_export_exactly_as_the_learner_reads_the_log(log: DecisionLog) -> None:
    workspace = vw.Workspace(["--cb_explore_adf", "--quiet"])
    dsjson, text = vw.DSJsonFormatParser(workspace), vw.TextFormatParser(workspace)
    events = log.events_after(0, 6)
    for line, event in zip(exported(log), events, strict=True):
        decision = event.decision
        reward = event.reward.value if event.reward else SETTINGS.default_reward
        from_json = dsjson.parse_json(line)
        from artwork.bandit.features import ChosenLabel

        label = ChosenLabel(decision.chosen_index, -reward, decision.chosen_probability)
        from_text = [
            text.parse_line(item)
            for item in vw_example_lines(decision.context, decision.action_features, label)
        ]
        assert len(from_json) == len(from_text) == 4
        for a, b in zip(from_json, from_text, strict=True):
            assert sorted((g.feat_group_index, sorted(g.indices)) for g in a) == sorted(
                (g.feat_group_index, sorted(g.indices)) for g in b
            )
            # Text ADF labels leave the action out ("0:cost:p"); cost and probability agree.
            label_a, label_b = a.get_label().label, b.get_label().label  # type: ignore[union-attr]
            assert (label_a is None) == (label_b is None)
            if label_a is not None and label_b is not None:
                assert label_a[1:] == pytest.approx(label_b[1:], rel=1e-6)


def test_export_then_import_is_lossless(log: DecisionLog, tmp_path: Path) -> None:
    path = tmp_path / "log.dsjson"
    path.write_text("\n".join(exported(log)) + "\n")
    target = create_database_engine(f"sqlite:///{tmp_path}/b.db")
    other = DecisionLog(target)

    report = import_dsjson(other, path)

    assert (report.imported, report.rewards, report.skipped) == (6, 2, 0)  # defaults stay so
    originals = [e for e in log.events_after(0, 6)]
    copies = other.events_after(0, 10)
    for copy, original in zip(copies, originals, strict=True):
        for field in original.decision.__dataclass_fields__:
            assert getattr(copy.decision, field) == getattr(original.decision, field), field
    assert [c.reward for c in copies] == [o.reward for o in originals]
    assert [c.reward.value if c.reward else None for c in copies] == [
        0.25, None, None, 1.0, None, None
    ]  # fmt: skip
    again = import_dsjson(other, path)
    assert (again.imported, again.skipped) == (0, 6)
    target.dispose()


def test_dsjson_from_another_system_imports(tmp_path: Path) -> None:
    line = {
        "_label_cost": -1.0,
        "_label_probability": 0.8,
        "_label_Action": 2,
        "Timestamp": "2021-05-06T07:08:09.1234567Z",
        "EventId": "foreign-1",
        "a": [2, 1],
        "c": {
            "User": {"country": "nl", "age": 31},
            "subscriber": True,
            "_multi": [{"Item": {"genre": "drama"}}, {"Item": {"genre": "comedy"}}],
        },
        "p": [0.8, 0.2],
        "VWState": {"m": "abc/1"},
    }
    no_probabilities = {**line, "EventId": "foreign-2", "_label_Action": 1}
    del no_probabilities["p"], no_probabilities["a"]
    path = tmp_path / "foreign.dsjson"
    path.write_text(json.dumps(line) + "\n\n" + json.dumps(no_probabilities) + "\n")
    engine = create_database_engine(f"sqlite:///{tmp_path}/f.db")
    log = DecisionLog(engine)

    assert import_dsjson(log, path).imported == 2

    first = log.get("foreign-1")
    assert first.created_at == datetime(2021, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert first.context == {"User": {"countrynl": 1.0, "age": 31.0}, " ": {"subscriber": 1.0}}
    assert first.action_features == ({"Item": {"genredrama": 1.0}}, {"Item": {"genrecomedy": 1.0}})
    assert first.action_ids == ("1", "2")
    assert (first.chosen_index, first.probabilities) == (1, (0.2, 0.8))
    assert (first.user_id, first.title_id) == ("unknown", "unknown")
    assert first.policy == {"name": "imported", "m": "abc/1"}
    assert log.reward_of("foreign-1") == 1.0
    second = log.get("foreign-2")
    assert (second.chosen_index, second.probabilities) == (0, pytest.approx((0.8, 0.2)))
    engine.dispose()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "usable"),
        ("[1, 2]", "object"),
        ('{"EventId": "x"}', "Timestamp"),
        (
            '{"EventId": "x", "Timestamp": "2021-01-01T00:00:00Z", "c": {"_multi": []},'
            ' "_label_Action": 1}',
            "_multi",
        ),
        (
            '{"EventId": "x", "Timestamp": "2021-01-01T00:00:00Z", "_label_Action": 3,'
            ' "_label_probability": 0.5, "c": {"_multi": [{"a": {"f": 1}}]}}',
            "labelled",
        ),
    ],
)
def test_a_bad_line_is_refused_with_its_number_and_nothing_is_imported(
    tmp_path: Path, line: str, reason: str
) -> None:
    good = json.dumps(
        {
            "EventId": "ok",
            "Timestamp": "2021-01-01T00:00:00Z",
            "_label_Action": 1,
            "_label_probability": 1.0,
            "c": {"_multi": [{"a": {"f": 1}}]},
        }
    )
    path = tmp_path / "bad.dsjson"
    path.write_text(good + "\n" + line + "\n")
    engine = create_database_engine(f"sqlite:///{tmp_path}/g.db")

    with pytest.raises(ImportFormatError, match=rf"bad.dsjson:2: .*{reason}"):
        import_dsjson(DecisionLog(engine), path)

    assert DecisionLog(engine).count() == 0
    engine.dispose()


def test_a_missing_file_is_an_import_error(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path}/g.db")
    with pytest.raises(ImportFormatError, match=r"absent\.dsjson"):
        import_dsjson(DecisionLog(engine), tmp_path / "absent.dsjson")
    engine.dispose()


def test_from_dsjson_needs_a_positive_probability_for_the_shown_action() -> None:
    with pytest.raises(ValueError, match="probability"):
        from_dsjson(
            {
                "EventId": "x",
                "Timestamp": "2021-01-01T00:00:00Z",
                "_labelIndex": 0,
                "a": [1, 2],
                "p": [0.0, 1.0],
                "c": {"_multi": [{"a": {"f": 1}}, {"a": {"g": 1}}]},
            }
        )


# --- logs from other systems: the order of ``a`` and the presence of ``p`` ---------------------

FOREIGN_MU = {"a": (0.6, 0.3, 0.1), "b": (0.1, 0.2, 0.7)}  # logging policy, by member kind
FOREIGN_TRUTH = {"a": (0.2, 0.5, 0.8), "b": (0.6, 0.3, 0.1)}  # true take rates


def foreign_log(path: Path, layout: str, count: int = 3000, seed: int = 5) -> Path:
    """A hand-written DSJSON log of a non-uniform logging policy over three actions.

    ``layout``: ``chosen_first`` (as VW writes it), ``ascending`` (``a`` in action order),
    ``shuffled`` (``a`` in a random order), each with ``p`` aligned to ``a``; or ``no_p``
    (only ``_label_probability``).
    """
    rng = np.random.default_rng(seed)
    order_rng = np.random.default_rng(seed + 1)
    lines = []
    for n in range(count):
        kind = "a" if rng.random() < 0.5 else "b"
        mu = FOREIGN_MU[kind]
        chosen = int(rng.choice(3, p=mu))
        take = rng.random() < FOREIGN_TRUTH[kind][chosen]
        line: dict[str, object] = {
            "_label_cost": -1.0 if take else 0.0,
            "_label_probability": mu[chosen],
            "_label_Action": chosen + 1,
            "_labelIndex": chosen,
            "Timestamp": "2021-05-06T07:08:09Z",
            "EventId": f"{layout}-{n}",
            "c": {
                "User": {"kind": kind},
                "_multi": [{"Item": {"id": str(i + 1)}} for i in range(3)],
            },
        }
        order = {
            "chosen_first": [chosen] + [i for i in range(3) if i != chosen],
            "ascending": [0, 1, 2],
            "shuffled": order_rng.permutation(3).tolist(),
            "no_p": None,
        }[layout]
        if order is not None:
            line["a"] = [i + 1 for i in order]
            line["p"] = [mu[i] for i in order]
        lines.append(json.dumps(line))
    path.write_text("\n".join(lines) + "\n")
    return path


def imported_events(tmp_path: Path, layout: str) -> list[Any]:
    from artwork.bandit.ope.evaluate import resolved_events

    engine = create_database_engine(f"sqlite:///{tmp_path}/{layout}.db")
    log = DecisionLog(engine)
    report = import_dsjson(log, foreign_log(tmp_path / f"{layout}.dsjson", layout))
    assert (report.imported, report.rewards) == (3000, 3000)
    events, pending = resolved_events(log, SETTINGS, NOW)
    engine.dispose()
    assert pending == 0
    return events


LAYOUTS = ("chosen_first", "ascending", "shuffled", "no_p")


def test_imported_logs_evaluate_alike_whatever_the_order_of_a_and_with_or_without_p(
    tmp_path: Path,
) -> None:
    from artwork.bandit.ope.evaluate import evaluate
    from artwork.bandit.ope.specs import parse_target

    events = {layout: imported_events(tmp_path, layout) for layout in LAYOUTS}
    specs = ["logged", "uniform", "always:variant=2", "always:rank=2"]
    results = {
        layout: evaluate(items, [parse_target(spec, SETTINGS) for spec in specs])
        for layout, items in events.items()
    }

    reference = events["chosen_first"]
    for layout, items in events.items():
        for event, first in zip(items, reference, strict=True):
            decision = event.decision
            assert decision.chosen_index == first.decision.chosen_index
            assert decision.chosen_probability == first.decision.chosen_probability
            assert event.reward == first.reward
            if layout == "no_p":
                assert decision.policy["pmf"] == "partial"
            else:
                assert decision.probabilities == first.decision.probabilities
                assert "pmf" not in decision.policy
    truth_of = {
        "logged": sum(0.5 * np.dot(FOREIGN_MU[k], FOREIGN_TRUTH[k]) for k in "ab"),
        "uniform": sum(0.5 * np.mean(FOREIGN_TRUTH[k]) for k in "ab"),
        "always:variant=2": 0.5 * 0.5 + 0.5 * 0.3,
        "always:rank=2": 0.5 * 0.8 + 0.5 * 0.1,
    }
    mean = float(np.mean([event.reward for event in reference]))
    for layout, evaluated in results.items():
        for result, expected in zip(evaluated, results["chosen_first"], strict=True):
            for name, estimate in result.estimates.items():
                # One log: within 4 standard errors (coverage over seeds: tests/bandit/ope).
                error = (estimate.high - estimate.low) / 3.92
                assert abs(estimate.value - truth_of[result.name]) < 4 * error, (layout, name)
                if result.name != "logged" or name != "dr":
                    # Only the logging policy's DR direct term reads the whole distribution.
                    assert estimate == expected.estimates[name], (layout, result.name, name)
        logged = evaluated[0].estimates
        assert logged["ips"].value == pytest.approx(mean)
        assert logged["ips"].low <= logged["dr"].value <= logged["ips"].high
    assert results["no_p"][0].estimates["dr"].value == pytest.approx(mean)


def foreign_event(**changes: Any) -> dict[str, Any]:
    event = {
        "EventId": "x",
        "Timestamp": "2021-01-01T00:00:00Z",
        "_label_cost": -1.0,
        "_label_probability": 0.7,
        "_label_Action": 3,
        "_labelIndex": 2,
        "a": [3, 1, 2],
        "p": [0.7, 0.2, 0.1],
        "c": {"_multi": [{"i": {"f": 1}}, {"i": {"g": 1}}, {"i": {"h": 1}}]},
    }
    return event | changes


def test_p_is_read_aligned_with_a() -> None:
    decision, _ = from_dsjson(foreign_event())
    assert (decision.chosen_index, decision.probabilities) == (2, (0.2, 0.1, 0.7))
    shuffled, _ = from_dsjson(foreign_event(a=[2, 3, 1], p=[0.1, 0.7, 0.2]))
    assert shuffled.probabilities == decision.probabilities
    subset, _ = from_dsjson(foreign_event(a=[3, 1], p=[0.7, 0.1]))  # one action left out
    assert subset.probabilities == pytest.approx((0.1, 0.2, 0.7))
    assert subset.policy["pmf"] == "partial"
    zero, _ = from_dsjson(foreign_event(a=[3, 1], p=[0.7, 0.3]))  # the rest had none
    assert zero.probabilities == (0.3, 0.0, 0.7) and "pmf" not in zero.policy


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"p": [0.2, 0.1, 0.7]}, "aligned with a"),  # p in action order, a shown-first
        ({"_labelIndex": 0}, "name different actions"),
        ({"a": [3, 3, 2]}, "twice"),
        ({"a": [1, 2]}, "a has 2 entries but p has 3"),
        ({"a": [2, 1], "p": [0.5, 0.5]}, "does not list the labelled action"),
        ({"p": [0.7, 0.2, 0.3]}, "sum to 1"),
        ({"a": [3, 1, 4]}, "there are 3"),
        ({"_label_probability": 0.0}, r"\(0, 1\]"),
    ],
)
def test_inconsistent_labels_and_probabilities_are_refused(
    changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        from_dsjson(foreign_event(**changes))
