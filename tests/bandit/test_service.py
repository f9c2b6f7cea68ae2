"""ArtworkBandit: choose logs decisions, rewards are learned once and persisted, threads safe."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select

from artwork.bandit.service import SNAPSHOTS_KEPT, ArtworkBandit
from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import bandit_models
from artwork.config import Settings
from artwork.domain import Context, Decision, Variant, VariantStatus
from artwork.errors import EventNotFoundError

NOW = datetime(2026, 3, 14, 20, 0, tzinfo=UTC)
CONTEXT = Context("u1", "tv", hour=20, weekday=5)


def make_variant(
    index: int, title_id: str = "t1", status: VariantStatus = VariantStatus.APPROVED
) -> Variant:
    return Variant(
        variant_id=f"{title_id}-v{index}",
        title_id=title_id,
        rank=index,
        frame_time_s=float(index),
        score=0.5,
        scores={"sharpness": 0.5 + 0.05 * index, "exposure": 0.6},
        tags={"face": 0.9} if index % 2 else {"landscape": 0.7},
        embedder="fallback",
        image_path=f"{title_id}/v{index}.jpg",
        width=320,
        height=180,
        status=status,
    )


VARIANTS = [make_variant(i) for i in range(4)]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path}/t.db")
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, epsilon=0.2)


@pytest.fixture
def bandit(engine: Engine, settings: Settings) -> ArtworkBandit:
    return ArtworkBandit(engine, settings, rng=np.random.default_rng(2026), clock=lambda: NOW)


def choose_until_explored(bandit: ArtworkBandit, greedy: int) -> Decision:
    for _ in range(200):
        decision = bandit.choose(CONTEXT, "t1", VARIANTS)
        if decision.chosen_index != greedy:
            return decision
    raise AssertionError("never explored in 200 draws")


def test_choose_logs_the_whole_decision(bandit: ArtworkBandit) -> None:
    decision = bandit.choose(CONTEXT, "t1", VARIANTS)

    assert bandit.log.get(decision.event_id) == decision
    assert len(decision.event_id) == 32
    assert int(decision.event_id, 16) >= 0
    assert decision.created_at == NOW
    assert (decision.user_id, decision.title_id) == ("u1", "t1")
    assert decision.action_ids == tuple(v.variant_id for v in VARIANTS)
    assert decision.context["member"] == {"id=u1": 1.0}
    assert decision.action_features[2]["variant"] == {"id=t1-v2": 1.0, "rank=2": 1.0}
    assert decision.probabilities == pytest.approx([0.85, 0.05, 0.05, 0.05])
    assert math.fsum(decision.probabilities) == pytest.approx(1.0, abs=1e-12)
    assert decision.model_version == 0
    assert decision.policy["name"] == "vw_epsilon_greedy"
    assert decision.policy["epsilon"] == 0.2


def test_draws_follow_the_probabilities(bandit: ArtworkBandit) -> None:
    first = bandit.choose(CONTEXT, "t1", VARIANTS)
    bandit.reward(first.event_id, 1.0)
    greedy = first.chosen_index

    picks = [bandit.choose(CONTEXT, "t1", VARIANTS).chosen_index for _ in range(400)]

    share = picks.count(greedy) / len(picks)
    assert share == pytest.approx(0.85, abs=0.06)
    assert set(picks) == set(range(4))


def test_choose_rejects_bad_variants_naming_them(bandit: ArtworkBandit) -> None:
    with pytest.raises(ValueError, match="'t1'"):
        bandit.choose(CONTEXT, "t1", [])
    with pytest.raises(ValueError, match=r"'t2-v0'.*'t2'"):
        bandit.choose(CONTEXT, "t1", [make_variant(0, "t2")])
    with pytest.raises(ValueError, match=r"'t1-v1'.*approved"):
        bandit.choose(
            CONTEXT, "t1", [make_variant(0), make_variant(1, status=VariantStatus.REJECTED)]
        )
    with pytest.raises(ValueError, match="twice"):
        bandit.choose(CONTEXT, "t1", [make_variant(0), make_variant(0)])


def test_unknown_event_is_not_found(bandit: ArtworkBandit) -> None:
    with pytest.raises(EventNotFoundError, match="'missing'"):
        bandit.reward("missing", 1.0)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, "one"])
def test_reward_value_must_be_finite(bandit: ArtworkBandit, value: object) -> None:
    decision = bandit.choose(CONTEXT, "t1", VARIANTS)
    with pytest.raises(ValueError, match="value"):
        bandit.reward(decision.event_id, value)  # type: ignore[arg-type]
    assert bandit.model_version == 0


def test_same_reward_twice_learns_once(bandit: ArtworkBandit) -> None:
    decision = bandit.choose(CONTEXT, "t1", VARIANTS)

    first = bandit.reward(decision.event_id, 1.0)
    second = bandit.reward(decision.event_id, 1.0)

    assert (first.learned, first.model_version) == (True, 1)
    assert (second.learned, second.model_version) == (False, 1)
    assert first.event_id == second.event_id == decision.event_id
    assert bandit.model_version == 1
    assert bandit.log.reward_of(decision.event_id) == 1.0


def test_rewarding_an_explored_variant_raises_its_probability(bandit: ArtworkBandit) -> None:
    first = bandit.choose(CONTEXT, "t1", VARIANTS)
    bandit.reward(first.event_id, 0.2)  # a modest reward makes this variant the greedy one
    greedy = first.chosen_index

    explored = choose_until_explored(bandit, greedy)
    shown = explored.chosen_index
    assert explored.probabilities[shown] == pytest.approx(0.05)  # eps / K: explored
    assert explored.probabilities[greedy] == pytest.approx(0.85)  # 1 - eps + eps / K

    bandit.reward(explored.event_id, 1.0)

    after = bandit.choose(CONTEXT, "t1", VARIANTS).probabilities
    assert after[shown] > explored.probabilities[shown]
    assert after[shown] == pytest.approx(0.85)


def test_repeated_rewards_converge_to_the_rewarded_variant(bandit: ArtworkBandit) -> None:
    target, unrewarded = 2, 0
    for _ in range(120):
        decision = bandit.choose(CONTEXT, "t1", VARIANTS)
        bandit.reward(decision.event_id, 1.0 if decision.chosen_index == target else 0.0)

    final = bandit.choose(CONTEXT, "t1", VARIANTS).probabilities
    assert final[target] == pytest.approx(0.85)
    assert final[unrewarded] == pytest.approx(0.05)
    assert bandit.model_version == 120
    assert bandit.log.latest_snapshot() is not None


def test_only_the_newest_snapshots_are_kept(bandit: ArtworkBandit, engine: Engine) -> None:
    for _ in range(SNAPSHOTS_KEPT + 3):
        bandit.reward(bandit.choose(CONTEXT, "t1", VARIANTS).event_id, 1.0)

    with engine.connect() as conn:
        versions = conn.scalars(select(bandit_models.c.version).order_by("version")).all()
    assert versions == list(range(4, SNAPSHOTS_KEPT + 4))


def test_new_bandit_resumes_from_the_latest_snapshot(
    bandit: ArtworkBandit, engine: Engine, settings: Settings
) -> None:
    for _ in range(5):
        decision = bandit.choose(CONTEXT, "t1", VARIANTS)
        bandit.reward(decision.event_id, 1.0 if decision.chosen_index == 3 else 0.0)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(bandit_models)) == 5

    resumed = ArtworkBandit(engine, settings, rng=np.random.default_rng(1))

    assert resumed.model_version == bandit.model_version == 5
    assert resumed.policy.config() == bandit.policy.config()
    before = bandit.choose(CONTEXT, "t1", VARIANTS).probabilities
    assert resumed.choose(CONTEXT, "t1", VARIANTS).probabilities == before


def test_resumed_bandit_explores_at_the_configured_epsilon(
    bandit: ArtworkBandit, engine: Engine, tmp_path: Path
) -> None:
    decision = bandit.choose(CONTEXT, "t1", VARIANTS)
    bandit.reward(decision.event_id, 1.0)

    resumed = ArtworkBandit(engine, Settings(home=tmp_path, epsilon=0.4))

    probabilities = resumed.choose(CONTEXT, "t1", VARIANTS).probabilities
    assert max(probabilities) == pytest.approx(0.7)
    assert resumed.policy.config()["epsilon"] == 0.4


def test_concurrent_choose_and_reward_from_threads(bandit: ArtworkBandit) -> None:
    errors: list[BaseException] = []
    learned: list[bool] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        try:
            context = Context(f"u{worker}", "phone", hour=worker, weekday=worker % 7)
            for step in range(15):
                decision = bandit.choose(context, "t1", VARIANTS)
                outcome = bandit.reward(decision.event_id, float(step % 2))
                repeat = bandit.reward(decision.event_id, 1.0)
                with lock:
                    learned.extend([outcome.learned, repeat.learned])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert learned.count(True) == 60
    assert learned.count(False) == 60
    assert bandit.model_version == 60
