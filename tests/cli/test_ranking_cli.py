from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from artwork.config import Settings
from artwork.domain import Interaction
from artwork.testing.catalog import seed_title
from artwork.wiring import Services


def test_train_then_list_versions(run_cli: Callable[..., Any], home: Path) -> None:
    services = Services.from_settings(Settings(home=home))
    for i, genre in enumerate(("drama", "comedy", "sci-fi")):
        seed_title(services.catalog, services.media, f"t{i}", genres=(genre,), variants=1, seed=i)
    now = datetime.now(UTC)
    services.catalog.add_interactions(
        [Interaction(f"u{u}", f"t{u % 3}", now - timedelta(hours=u), 60.0) for u in range(9)]
    )
    services.close()

    empty = run_cli("ranking", "versions")
    assert empty.exit_code == 0 and "no ranking versions" in empty.stderr

    result = run_cli("ranking", "train", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["version"] == 1 and report["titles"] == 3 and report["interactions"] == 9
    assert report["page_model"] is None
    assert Path(report["path"]).is_dir() and Path(report["path"]).parent == home / "ranking"

    text = run_cli("ranking", "train")
    assert text.exit_code == 0 and text.stdout.startswith("ranking version 2: 3 titles")
    assert "page model: none" in text.stderr

    listed = json.loads(run_cli("ranking", "versions", "--json").stdout)
    assert listed["versions"] == [1, 2]
    assert run_cli("ranking").exit_code == 2
