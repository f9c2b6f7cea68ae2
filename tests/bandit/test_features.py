"""Features of requests and variants, and their VW text rendering."""

from __future__ import annotations

import math

import numpy as np
import pytest
import vowpal_wabbit_next as vw

from artwork.bandit.features import (
    ACTION_NAMESPACES,
    DEFAULT_INTERACTIONS,
    EMBEDDING_DIMS,
    PROFILE_TOP,
    SHARED_NAMESPACES,
    ChosenLabel,
    action_features,
    daypart,
    escape_feature_name,
    interaction_args,
    level,
    profile_features,
    project_embedding,
    render_features,
    shared_features,
    vw_example_lines,
)
from artwork.domain import Context, MemberProfile, Variant, VariantStatus


def make_variant(
    index: int,
    *,
    scores: dict[str, float] | None = None,
    tags: dict[str, float] | None = None,
    embedding: np.ndarray | None = None,
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
        embedding=embedding,
    )


def test_shared_features_describe_member_device_and_time() -> None:
    features = shared_features(Context("u42", " TV ", hour=20, weekday=5, country="NL"))

    assert features["member"] == {"id=u42": 1.0}
    assert features["context"] == {"device=tv": 1.0, "country=nl": 1.0}
    assert features["when"] == {
        "hour=20": 1.0,
        "daypart=evening": 1.0,
        "weekday=5": 1.0,
        "daytype=weekend": 1.0,
    }
    assert "history" not in features


def test_profile_adds_genre_and_tag_affinities_as_history() -> None:
    profile = MemberProfile(genres={"drama": 0.7, "comedy": 0.3}, tags={"close-up face": 0.6})
    features = shared_features(Context("u1", "tv", 20, 1, profile=profile))

    assert features["history"] == {
        "genre=drama": 0.7,
        "genre=comedy": 0.3,
        "tag=close-up face": 0.6,
    }


def test_profile_keeps_the_strongest_affinities_including_dislikes() -> None:
    genres = {f"g{i}": i / 100 for i in range(1, 20)}
    tags = {"loved": 0.9, "hated": -0.95, "meh": 0.0}
    features = profile_features(MemberProfile(genres=genres, tags=tags))

    kept_genres = [name for name in features if name.startswith("genre=")]
    assert len(kept_genres) == PROFILE_TOP
    assert "genre=g19" in features and "genre=g1" not in features
    assert features["tag=hated"] == -0.95 and features["tag=loved"] == 0.9
    assert "tag=meh" not in features


def test_profile_affinity_must_be_finite() -> None:
    with pytest.raises(ValueError, match=r"'drama'.*finite"):
        profile_features(MemberProfile(genres={"drama": math.inf}))


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


def test_action_features_split_quality_faces_and_tags_into_levels() -> None:
    variant = make_variant(
        2,
        scores={"sharpness": 0.8, "face_count": 2.0, "face_area": 0.3, "colourfulness": 0.6},
        tags={"close-up face": 0.9, "red car": 0.3, "maybe a cat": 0.1},
    )
    features = action_features(variant)

    assert features["variant"] == {"id=v2": 1.0, "rank=2": 1.0}
    assert features["quality"] == {"score=2": 1.0, "sharpness=3": 1.0, "colourfulness=2": 1.0}
    assert features["faces"] == {"face_count=2": 1.0, "face_area=1": 1.0}
    assert features["tags"] == {"close-up face": 1.0, "red car": 1.0}
    assert "embedding" not in features


@pytest.mark.parametrize(
    ("value", "count", "expected"),
    [(0.0, False, "0"), (0.12, False, "0"), (0.13, False, "1"), (1.0, False, "4"),
     (3.0, True, "3"), (7.0, True, "4+"), (-0.5, False, "neg"), (5.0, False, "e2"),
     (0.5, True, "0")],
)  # fmt: skip
def test_levels(value: float, count: bool, expected: str) -> None:
    assert level(value, count=count) == expected


def test_action_features_leave_out_empty_namespaces() -> None:
    features = action_features(make_variant(0, tags={"faint": 0.1}))
    assert set(features) == {"variant", "quality"}


def test_action_features_reject_non_finite_values_naming_them() -> None:
    with pytest.raises(ValueError, match=r"'v1'.*sharpness.*finite"):
        action_features(make_variant(1, scores={"sharpness": math.nan}))
    with pytest.raises(ValueError, match=r"'v1'.*embedding"):
        action_features(make_variant(1, embedding=np.array([1.0, math.nan], dtype=np.float32)))


def test_embedding_projection_is_fixed_low_dimensional_and_scale_free() -> None:
    rng = np.random.default_rng(3)
    vector = rng.normal(size=512).astype(np.float32)

    projected = project_embedding(vector)

    assert len(projected) == EMBEDDING_DIMS
    assert projected == project_embedding(vector * 7.5)  # L2-normalised first
    assert projected == project_embedding(vector.astype(np.float64))
    # Johnson-Lindenstrauss: about unit length, and it keeps some angle information.
    assert 0.3 < float(np.linalg.norm(projected)) < 2.0
    other = rng.normal(size=512)
    assert project_embedding(other) != projected
    assert project_embedding(-vector) == pytest.approx([-p for p in projected])
    assert len(project_embedding(vector, 16)) == 16
    assert project_embedding(np.zeros(8)) == []
    with pytest.raises(ValueError, match="dims"):
        project_embedding(vector, 0)


def test_action_features_carry_the_signs_of_the_projected_embedding() -> None:
    embedding = np.linspace(-1, 1, 64).astype(np.float32)
    features = action_features(make_variant(0, embedding=embedding))

    signs = ["+" if value >= 0 else "-" for value in project_embedding(embedding)]
    assert features["embedding"] == {f"p{i}{signs[i]}": 1.0 for i in range(EMBEDDING_DIMS)}
    flipped = action_features(make_variant(0, embedding=-embedding))["embedding"]
    assert not set(flipped) & set(features["embedding"])


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
    assert lines[1].startswith("|variant id=v0 rank=0 |quality score=2 sharpness=3")
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


def test_default_namespace_renders_as_vw_anonymous_namespace() -> None:
    workspace = vw.Workspace(["--cb_explore_adf", "--quiet"])
    parser = vw.TextFormatParser(workspace)

    assert render_features({" ": {"x": 1.0, "y": 2.0}}) == "| x y:2"
    example = parser.parse_line(render_features({" ": {"x": 1.0}}))
    assert [group.feat_group_index for group in example] == [ord(" ")]


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
    # What images show is crossed with the member's history: that is what generalises.
    assert {("history", "tags"), ("history", "faces")} <= set(DEFAULT_INTERACTIONS)

    assert interaction_args([("member", "variant"), ("context", "tags")]) == [
        "--interactions",
        "mv",
        "--interactions",
        "ct",
    ]
