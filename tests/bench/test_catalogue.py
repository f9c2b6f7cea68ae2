from __future__ import annotations

import numpy as np
import pytest


def test_synthetic_catalogue_is_deterministic_and_well_formed() -> None:
    from artwork.bench.catalogue import simulate_catalogue

    first = simulate_catalogue(titles=200, users=300, interactions=5000, genres=6, seed=4)
    again = simulate_catalogue(titles=200, users=300, interactions=5000, genres=6, seed=4)
    log = first.log
    assert np.array_equal(log.title, again.log.title) and np.array_equal(log.user, again.log.user)
    assert 4000 < len(log) < 6000
    assert len(first.titles) == 200 and len(log.user_ids) == 300
    assert np.all(np.diff(log.timestamp) >= 0) and log.timestamp[-1] <= first.now.timestamp()
    assert np.all(log.seconds > 0) and np.all(log.seconds <= log.duration + 0.1)
    assert all(1 <= len(t.genres) <= 2 for t in first.titles)
    assert np.allclose(np.linalg.norm(first.content, axis=1), 1.0, atol=1e-5)
    assert np.allclose(first.taste.sum(axis=1), 1.0)
    # Some plays are resumptions: a member watches the same title twice.
    pairs = log.user.astype(np.int64) * 200 + log.title
    assert len(np.unique(pairs)) < len(pairs)


def test_synthetic_members_watch_their_clusters() -> None:
    from artwork.bench.catalogue import simulate_catalogue

    world = simulate_catalogue(titles=300, users=200, interactions=8000, genres=6, seed=1)
    log = world.log
    liked = np.array(
        [world.appeal(int(u), np.array([t]))[0] for u, t in zip(log.user, log.title, strict=True)]
    )
    # A random title has the member's favourite-relative appeal of about 1/clusters on average.
    assert liked.mean() > 0.5


def test_synthetic_arguments_are_checked() -> None:
    from artwork.bench.catalogue import simulate_catalogue

    with pytest.raises(ValueError, match="users"):
        simulate_catalogue(users=0)
    with pytest.raises(ValueError, match="resume_rate"):
        simulate_catalogue(titles=10, users=10, interactions=10, resume_rate=2.0)
    with pytest.raises(ValueError, match="days"):
        simulate_catalogue(titles=10, users=10, interactions=10, days=0)


def test_synthetic_titles_rise_after_release_and_decay() -> None:
    from artwork.bench.catalogue import DECAY_DAYS, RELEASE_BOOST, RISE_DAYS, lifecycle

    ages = np.array([-1.0, 0.0, RISE_DAYS, RISE_DAYS + 3 * DECAY_DAYS, 1000.0])
    interest = lifecycle(ages, DECAY_DAYS)
    assert interest[0] == 0.0 and interest[1] == pytest.approx(1.0)
    assert interest[2] == pytest.approx(1.0 + RELEASE_BOOST)
    assert 1.0 < interest[3] < 0.1 * interest[2] and interest[4] == pytest.approx(1.0)


def test_synthetic_viewing_follows_releases_novelty_and_seasons() -> None:
    from artwork.bench.catalogue import simulate_catalogue

    world = simulate_catalogue(titles=600, users=2000, interactions=40_000, genres=6, seed=7)
    log = world.log
    age = (log.timestamp - world.release[log.title]) / 86400.0
    assert np.all(age >= 0)  # nobody watches a title before its release
    # Titles released during the period: their plays pile up in the first weeks.
    released = age[world.release[log.title] > log.timestamp[0]]
    assert (released < 21).mean() > 0.6
    # Members who follow what is popular now stray from their own tastes more often.
    liked = world.taste[log.user, world.cluster[log.title]] / world.taste[log.user].max(axis=1)
    counts = np.bincount(log.user, minlength=2000)
    per_user = np.bincount(log.user, weights=liked, minlength=2000) / np.maximum(counts, 1)
    high = (counts >= 10) & (world.novelty > 0.6)
    low = (counts >= 10) & (world.novelty < 0.1)
    assert per_user[high].mean() < per_user[low].mean() - 0.2
    # Without novelty or seasons, the recent share falls.
    calm = simulate_catalogue(
        titles=600,
        users=2000,
        interactions=40_000,
        genres=6,
        seed=7,
        novelty_mean=0.0,
        seasonal_genres=0,
    )
    calm_age = (calm.log.timestamp - calm.release[calm.log.title]) / 86400.0
    assert (calm_age < 30).mean() < (age < 30).mean()
    # appeal() mixes taste with what is popular now, by the member's novelty.
    hot = int(np.argmax(world.current_interest))
    follower = int(np.argmax(world.novelty))
    assert world.appeal(follower, np.array([hot]))[0] >= world.novelty[follower]
