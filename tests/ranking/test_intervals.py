from __future__ import annotations

import numpy as np
import pytest

from artwork.ranking.intervals import MemberBootstrap


def test_intervals_cover_the_mean_and_narrow_with_more_members(rng: np.random.Generator) -> None:
    small = rng.binomial(1, 0.3, size=40).astype(float)
    large = rng.binomial(1, 0.3, size=4000).astype(float)
    narrow = MemberBootstrap(len(large), seed=1).mean(large)
    wide = MemberBootstrap(len(small), seed=1).mean(small)
    assert narrow.low <= narrow.estimate <= narrow.high
    assert wide.low <= wide.estimate <= wide.high
    assert narrow.high - narrow.low < (wide.high - wide.low) / 5
    assert narrow.low < 0.3 < narrow.high


def test_ratio_intervals_are_paired(rng: np.random.Generator) -> None:
    base = rng.uniform(size=500)
    boot = MemberBootstrap(500, seed=0)
    # A ranker exactly twice as good on every member: the paired ratio has no spread at all.
    twice = boot.ratio(2 * base, base)
    assert twice.estimate == pytest.approx(2.0)
    assert twice.low == pytest.approx(2.0) and twice.high == pytest.approx(2.0)
    assert boot.mean(base).as_list(2) == [
        round(boot.mean(base).low, 2),
        round(boot.mean(base).high, 2),
    ]


def test_bootstrap_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="resamples"):
        MemberBootstrap(10, resamples=0)
    with pytest.raises(ValueError, match="level"):
        MemberBootstrap(10, level=1.0)
    with pytest.raises(ValueError, match="one per member"):
        MemberBootstrap(10).mean(np.zeros(3))
    empty = MemberBootstrap(0).mean(np.zeros(0))
    assert np.isnan(empty.estimate)
