"""Policy specs: parsed from each policy's declared parameters, with errors that name the
bad part and list what is valid."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from artwork.bandit.ope.specs import (
    AlwaysTarget,
    FixedTarget,
    LearningTarget,
    LoggedTarget,
    parse_target,
    target_specs,
)
from artwork.bandit.vw_policy import VW_POLICIES
from artwork.config import Settings
from artwork.domain import Decision


def decision(n: int = 0) -> Decision:
    """A decision between two variants, v0 (the editorial default) and v1."""
    return Decision(
        event_id=f"e{n}",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
        user_id="u1",
        title_id="t1",
        context={"member": {"id=u1": 1.0}},
        action_ids=("v0", "v1"),
        action_features=({"variant": {"id=v0": 1.0}}, {"variant": {"id=v1": 1.0}}),
        probabilities=(0.5, 0.5),
        chosen_index=n % 2,
        model_version=0,
        policy={"name": "test"},
    )


@pytest.mark.parametrize(
    ("spec", "name", "key", "value"),
    [
        ("softmax:lambda=5", "vw_softmax", "lambda", 5.0),
        ("epsilon_greedy:epsilon=0.05", "vw_epsilon_greedy", "epsilon", 0.05),
        ("epsilon_greedy:learning_rate=0.1", "vw_epsilon_greedy", "learning_rate", 0.1),
        ("bag:size=3,epsilon=0.1", "vw_bag", "size", 3.0),
        ("cover:size=2,psi=0.5", "vw_cover", "psi", 0.5),
        ("squarecb:gamma_scale=20", "vw_squarecb", "gamma_scale", 20.0),
        ("softmax:clip_p=0.1", "vw_softmax", "clip_p", 0.1),
        ("current", "vw_epsilon_greedy", "epsilon", 0.2),
        ("current:learning_rate=0.3", "vw_epsilon_greedy", "learning_rate", 0.3),
        ("softmax:bits=12", "vw_softmax", "bits", 12),
    ],
)
def test_vw_specs_take_every_parameter_their_policy_declares(
    spec: str, name: str, key: str, value: float
) -> None:
    target = parse_target(spec, Settings())
    assert isinstance(target, LearningTarget)
    assert target.policy.config()["name"] == name
    assert target.policy.config()[key] == value
    assert target.name == spec


def test_each_vw_spec_declares_its_class_parameters() -> None:
    specs = target_specs()
    for cls in VW_POLICIES:
        declared = specs[cls.exploration].parameters
        assert set(declared) == {p.name for p in cls.all_params()} | {"bits"}
        assert "learning_rate" in declared


def test_fixed_specs() -> None:
    settings = Settings()
    assert isinstance(parse_target("logged", settings), LoggedTarget)
    assert isinstance(parse_target("uniform", settings), FixedTarget)
    assert isinstance(parse_target("baseline", settings), FixedTarget)
    assert isinstance(parse_target("apprentice:epsilon=0.05", settings), FixedTarget)


def test_always_shows_one_variant_by_id_or_by_position() -> None:
    event = decision()
    by_id = parse_target("always:variant=v1", Settings())
    by_rank = parse_target("always:rank=1", Settings())
    absent = parse_target("always:variant=v9", Settings())
    assert isinstance(absent, AlwaysTarget)

    assert list(by_id.pmf(event)) == [0.0, 1.0]
    assert list(by_rank.pmf(event)) == [0.0, 1.0]
    assert list(absent.pmf(event)) == [1.0, 0.0]  # the editorial default stands in
    assert absent.fallbacks == 1


def test_a_fallback_is_reported_as_a_warning() -> None:
    from artwork.bandit.ope.evaluate import Event, evaluate

    events = [Event(decision(n), float(n % 3 == 0)) for n in range(30)]
    (result,) = evaluate(events, [parse_target("always:rank=5", Settings())])

    assert any("30 events lacked the variant" in note for note in result.warnings)


@pytest.mark.parametrize(
    ("spec", "bad"),
    [
        ("thompson", "unknown policy 'thompson'.*known: logged, uniform"),
        ("softmax:lambda", "key=value"),
        ("softmax:lambda=hot", "lambda must be a number"),
        ("softmax:temperature=2", r"unknown parameter\(s\) \['temperature'\].*takes learning_rate"),
        ("uniform:epsilon=0.1", "no parameters"),
        ("baseline:size=2", "size"),
        ("epsilon_greedy:epsilon=3", "epsilon must be a number in"),
        ("epsilon_greedy:learning_rate=0", "learning_rate must be"),
        ("softmax:lambda=1,lambda=2", "given twice"),
        ("softmax:bits=40", "bits must be an integer in 1..30"),
        ("always", "exactly one of variant=ID and rank=R"),
        ("always:variant=a,rank=1", "exactly one"),
        ("always:rank=1.5", "rank must be an integer"),
        ("always:rank=-1", "rank must be >= 0"),
        ("current:size=3", r"epsilon_greedy takes no parameter\(s\) \['size'\]"),
    ],
)
def test_bad_specs_are_named(spec: str, bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        parse_target(spec, Settings())


def test_targets_follow_the_protocol() -> None:
    event = decision()
    for spec in ("logged", "uniform", "baseline:epsilon=0.2", "always:rank=0", "softmax"):
        target = parse_target(spec, Settings())
        assert sum(target.pmf(event)) == pytest.approx(1.0)
        target.learn(event, 1.0)
