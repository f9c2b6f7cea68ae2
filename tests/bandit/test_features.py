"""Features of requests and variants, and their VW text rendering."""

from __future__ import annotations

import math

import pytest
import vowpal_wabbit_next as vw

from artwork.bandit.features import (
    ACTION_NAMESPACES,
    DEFAULT_INTERACTIONS,
    SHARED_NAMESPACES,
    ChosenLabel,
    action_features,
    daypart,
    escape_feature_name,
    interaction_args,
    shared_features,
    vw_example_lines,
)
from artwork.domain import Context, Variant, VariantStatus


def make_variant(
    index: int,
    *,
    scores: dict[str, float] | None = None,
    tags: dict[str, float] | None = None,
) -> Variant:
    return Variant(
        variant_id=f"v{index}",
        title_id="t1",
        rank=index,
        frame_time_s=float(index),
        score=0.5,
        scores={"sharpness": 0.8, "exposure": 0.4} if scores is None else scores,
        tags={"face": 0.9} if tags is None else tags,
        embedder="fallback",
        image_path=f"t1/v{index}.jpg",
        width=320,
        height=180,
        status=VariantStatus.APPROVED,
    )


def test_shared_features_describe_member_device_and_time() -> None:
    features = shared_features(Context("u42", " TV ", hour=20, weekday=5, country="NL"))

    assert features["member"] == {"id=u42": 1.0}
    assert features["context"] == {
        "device=tv": 1.0,
        "country=nl": 1.0,
        "hour=20": 1.0,
        "daypart=evening": 1.0,
        "weekday=5": 1.0,
        "daytype=weekend": 1.0,
    }


@pytest.mark.parametrize(
    ("hour", "part"),
    [(0, "night"), (5, "night"), (6, "morning"), (11, "morning"), (12, "afternoon"),
     (17, "afternoon"), (18, "evening"), (23, "evening")],
)  # fmt: skip
def test_daypart_boundaries(hour: int, part: str) -> None:
    assert daypart(hour) == part


@pytest.mark.parametrize(
    ("context", "bad"),
    [
        (Context("", "tv", 1, 1), "user_id"),
        (Context("u", "  ", 1, 1), "device"),
        (Context("u", "tv", 24, 1), "hour"),
        (Context("u", "tv", -1, 1), "hour"),
        (Context("u", "tv", 1, 7), "weekday"),
    ],
)
def test_shared_features_reject_bad_context_naming_the_field(context: Context, bad: str) -> None:
    with pytest.raises(ValueError, match=bad):
        shared_features(context)


def test_action_features_hold_identity_rank_scores_and_tags() -> None:
    features = action_features(make_variant(2, tags={"face": 0.9, "red car": 0.3}))

    assert features["variant"] == {"id=v2": 1.0, "rank=2": 1.0}
    assert features["quality"] == {"score": 0.5, "sharpness": 0.8, "exposure": 0.4}
    assert features["tags"] == {"face": 0.9, "red car": 0.3}


def test_action_features_leave_out_empty_tags() -> None:
    assert "tags" not in action_features(make_variant(0, tags={}))


def test_action_features_reject_non_finite_score_naming_variant_and_score() -> None:
    with pytest.raises(ValueError, match=r"'v1'.*sharpness.*finite"):
        action_features(make_variant(1, scores={"sharpness": math.nan}))


def test_escape_removes_vw_special_characters_and_keeps_names_distinct() -> None:
    names = ["a b", "a_b", "a%20b", "a|b", "a:b", "a\tb", "a\nb", "plain=1"]
    escaped = [escape_feature_name(name) for name in names]

    for text in escaped:
        assert not any(char in text for char in " |:\t\n")
    assert len(set(escaped)) == len(names)
    assert escape_feature_name("plain=1") == "plain=1"


def test_lines_are_shared_then_one_per_action_with_label_on_the_chosen_one() -> None:
    shared = shared_features(Context("u1", "tv", 8, 0))
    actions = [action_features(make_variant(i)) for i in range(3)]

    lines = vw_example_lines(shared, actions, ChosenLabel(1, -1.0, 0.25))

    assert len(lines) == 4
    assert lines[0].startswith("shared |member id=u1 |context ")
    assert lines[1].startswith("|variant id=v0 rank=0 |quality score:0.5")
    assert lines[2].startswith("0:-1.0:0.25 |variant id=v1 ")
    assert not lines[3].startswith("0:")
    assert all("0:" not in line.split("|")[0] for line in vw_example_lines(shared, actions))


def test_rendered_lines_parse_in_vw_with_every_feature_and_the_label() -> None:
    workspace = vw.Workspace(["--cb_explore_adf", "--quiet"])
    parser = vw.TextFormatParser(workspace)
    shared = {"member": {"id=odd name|x:y": 1.0}}
    action = {"variant": {"id=v 1": 1.0}, "tags": {"a:b": 0.5, "c|d e": 2.0}}

    lines = vw_example_lines(shared, [action], ChosenLabel(0, -1.0, 0.5))
    examples = [parser.parse_line(line) for line in lines]

    assert [list(group.values) for group in examples[0]] == [[1.0]]
    assert [list(group.values) for group in examples[1]] == [[1.0], [0.5, 2.0]]
    label = examples[1].get_label()
    assert isinstance(label, vw.CBLabel)
    assert label.label == (0, -1.0, 0.5)


@pytest.mark.parametrize(
    "label",
    [ChosenLabel(3, -1.0, 0.5), ChosenLabel(0, math.inf, 0.5), ChosenLabel(0, -1.0, 0.0)],
)
def test_bad_label_is_rejected(label: ChosenLabel) -> None:
    actions = [action_features(make_variant(i)) for i in range(3)]
    with pytest.raises(ValueError, match="label"):
        vw_example_lines({}, actions, label)


def test_no_actions_is_rejected() -> None:
    with pytest.raises(ValueError, match="actions"):
        vw_example_lines({}, [])


def test_non_finite_feature_value_is_rejected_naming_it() -> None:
    with pytest.raises(ValueError, match="quality/sharpness"):
        vw_example_lines({}, [{"quality": {"sharpness": math.nan}}])


def test_interactions_cross_shared_with_action_namespaces_by_first_letter() -> None:
    letters = [name[0] for name in SHARED_NAMESPACES + ACTION_NAMESPACES]
    assert len(set(letters)) == len(letters), "VW keys namespaces by first letter"
    for shared, action in DEFAULT_INTERACTIONS:
        assert shared in SHARED_NAMESPACES
        assert action in ACTION_NAMESPACES

    assert interaction_args([("member", "variant"), ("context", "tags")]) == [
        "--interactions",
        "mv",
        "--interactions",
        "ct",
    ]
