from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from artwork.domain import Interaction, Title, VariantStatus
from artwork.errors import TitleExistsError, TitleNotFoundError, VariantNotFoundError
from artwork.testing.catalog import seed_title
from artwork.wiring import Services


def test_title_and_variants_round_trip(services: Services) -> None:
    stored = seed_title(services.catalog, services.media, "t1", genres=("drama", "comedy"))
    title = services.catalog.get_title("t1")
    assert title.genres == ("drama", "comedy")
    assert title.created_at is not None and title.created_at.tzinfo is not None
    loaded = services.catalog.variants("t1")
    assert [v.variant_id for v in loaded] == [v.variant_id for v in stored]
    assert loaded[0].embedding is not None and stored[0].embedding is not None
    np.testing.assert_array_equal(loaded[0].embedding, stored[0].embedding)
    assert dict(loaded[1].scores) == dict(stored[1].scores)


def test_duplicate_title_is_refused_and_nothing_changes(services: Services) -> None:
    seed_title(services.catalog, services.media, "t1", variants=2)
    with pytest.raises(TitleExistsError, match="--replace"):
        services.catalog.add_title(Title("t1", "Again"), [])
    assert len(services.catalog.variants("t1")) == 2


def test_replace_swaps_variants_in_one_transaction(services: Services) -> None:
    old = seed_title(services.catalog, services.media, "t1", variants=2)
    replaced = services.catalog.add_title(Title("t1", "New name", ("sci-fi",)), [], replace=True)
    assert sorted(replaced) == sorted(v.image_path for v in old)
    assert services.catalog.get_title("t1").name == "New name"
    assert services.catalog.variants("t1") == []


def test_editorial_state(services: Services) -> None:
    stored = seed_title(services.catalog, services.media, "t1", status=VariantStatus.PROPOSED)
    services.catalog.set_variant_status(stored[0].variant_id, VariantStatus.APPROVED)
    approved = services.catalog.variants("t1", VariantStatus.APPROVED)
    assert [v.variant_id for v in approved] == [stored[0].variant_id]
    with pytest.raises(VariantNotFoundError):
        services.catalog.set_variant_status("nope", VariantStatus.APPROVED)


def test_unknown_title(services: Services) -> None:
    with pytest.raises(TitleNotFoundError, match="nope"):
        services.catalog.get_title("nope")


def test_interactions_round_trip_and_unknown_titles_are_refused(services: Services) -> None:
    seed_title(services.catalog, services.media, "t1")
    when = datetime(2026, 1, 1, 12, tzinfo=UTC)
    services.catalog.add_interactions([Interaction("u1", "t1", when, 30.0, 60.0)])
    assert services.catalog.interactions("u1") == [Interaction("u1", "t1", when, 30.0, 60.0)]
    with pytest.raises(TitleNotFoundError, match="t2"):
        services.catalog.add_interactions([Interaction("u1", "t2", when, 30.0)])
    assert services.catalog.count_interactions() == 1
    # Many titles named at once (checked in chunks): one unknown refuses the whole batch.
    for n in range(600):
        services.catalog.add_title(Title(f"m{n:03d}", f"Many {n}"), [])
    many = [Interaction("u2", f"m{n:03d}", when, 5.0) for n in range(600)]
    with pytest.raises(TitleNotFoundError, match="interactions name unknown titles: zz"):
        services.catalog.add_interactions([*many, Interaction("u2", "zz", when, 5.0)])
    assert services.catalog.count_interactions() == 1
    assert services.catalog.add_interactions(many) == 600
    assert services.catalog.count_interactions() == 601
