"""The pages' read queries: review counts, variant performance, curves and explanations."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest

from artwork.web.queries import (
    members,
    off_policy,
    recent_events,
    review_states,
    summarize,
    top_features,
    variant_performance,
    version_bands,
    wilson,
)
from artwork.wiring import Services


def test_wilson_interval_holds_the_rate_and_stays_in_bounds() -> None:
    rate = wilson(5, 10)
    assert rate.value == 0.5 and 0.2 < rate.low < 0.5 < rate.high < 0.8
    assert wilson(0, 10).low == 0.0 and wilson(10, 10).high == pytest.approx(1.0)
    assert math.isnan(wilson(0, 0).value)
    with pytest.raises(ValueError, match="takes"):
        wilson(3, 2)


def test_review_states_and_members(page_services: Services) -> None:
    states = {s.title_id: s for s in review_states(page_services.catalog)}
    assert (states["fresh"].proposed, states["fresh"].approved) == (3, 0)
    assert states["t0"].approved == 3 and states["t0"].extraction == "extracted"
    assert [s.title_id for s in review_states(page_services.catalog, "title 1")] == ["t1"]
    assert members(page_services.catalog) == ["m1"]


def test_variant_performance_counts_each_shown_variant(page_services: Services) -> None:
    performance = variant_performance(page_services.bandit.log, "t0")
    events = [e for e in recent_events(page_services.bandit.log) if e.decision.title_id == "t0"]
    assert sum(r.trials for r in performance.values()) == len(events)
    takes = sum(1 for e in events if e.reward is not None and e.reward.value > 0)
    assert sum(r.takes for r in performance.values()) == takes
    assert variant_performance(page_services.bandit.log, "fresh") == {}


def test_summary_leaves_pending_decisions_out_of_the_curve(page_services: Services) -> None:
    log = page_services.bandit.log
    events = recent_events(log)
    settings = page_services.settings
    late = summarize(events, settings, datetime.now(UTC) + timedelta(days=30), buckets=4)
    assert late.pending == 0 and late.decisions == len(events)
    assert sum(p.rate.trials for points in late.curves.values() for p in points) == len(events)
    early = summarize(events, settings, events[0].decision.created_at, buckets=4)
    resolved = sum(p.rate.trials for points in early.curves.values() for p in points)
    assert resolved == early.rewarded and early.pending == len(events) - early.rewarded
    assert 0.0 <= late.explored_share <= 1.0
    assert all(lag >= 0 for lag in late.lags_s) and len(late.lags_s) == late.rewarded
    with pytest.raises(ValueError, match="buckets"):
        summarize(events, settings, datetime.now(UTC), buckets=0)


def test_top_features_set_the_chosen_variant_apart(page_services: Services) -> None:
    decision = recent_events(page_services.bandit.log)[0].decision
    features = top_features(decision, limit=3)
    assert 0 < len(features) <= 3
    assert all(not name.startswith("embedding:") for name, _, _ in features)
    deltas = [abs(delta) for _, _, delta in features]
    assert deltas == sorted(deltas, reverse=True)


def test_off_policy_is_kept_until_the_log_changes(page_services: Services) -> None:
    log = page_services.bandit.log
    settings = page_services.settings
    now = datetime.now(UTC)
    first = off_policy(log, settings, now)
    assert off_policy(log, settings, now) is first
    rows, events, _, reason = first
    assert reason is None and [r["policy"] for r in rows] == [
        "logged",
        "current",
        "baseline",
        "uniform",
    ]
    pending = next(e for e in recent_events(log) if e.reward is None)
    log.record_reward(pending.decision.event_id, 1.0, now)
    again = off_policy(log, settings, now)
    assert again is not first and again[1] >= events


def test_version_bands_cover_every_version_in_order() -> None:
    versions = [0] * 10 + list(range(1, 31))
    bands = version_bands(versions, most=4)
    assert len(bands) <= 4 and bands[0][0] == 0 and bands[-1][1] == 30
    assert all(a[1] < b[0] for a, b in itertools.pairwise(bands))
    assert version_bands([5, 5, 5]) == [(5, 5)]
    assert version_bands([]) == []
    with pytest.raises(ValueError, match="most"):
        version_bands([1], most=0)
