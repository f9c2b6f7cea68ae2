"""Decision logs as VW DSJSON: VW reads the export exactly as artwork's learner reads the log,
the round trip is lossless, and logs of other systems import."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import vowpal_wabbit_next as vw
from sqlalchemy import Engine

from artwork.bandit.dsjson import export_dsjson, from_dsjson, import_dsjson
from artwork.bandit.features import vw_example_lines
from artwork.bandit.log import DecisionLog
from artwork.bandit.service import ArtworkBandit
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
