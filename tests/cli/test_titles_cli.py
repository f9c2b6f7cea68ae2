"""``artwork titles import``: a catalogue without footage; plays for it import too."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from artwork.config import Settings
from artwork.wiring import Services


def test_import_titles_then_their_plays(run_cli: Callable[..., Any], home: Path) -> None:
    sheet = home.parent / "titles.csv"
    sheet.write_text(
        "title_id,name,genres,year,description\n"
        "a,Alpha,drama|comedy,1999,First\n"
        "b,Beta,,,\n"
        "bad id,Gamma,,2000,\n"
        "c,Delta,,nineteen,\n"
    )
    result = run_cli("titles", "import", str(sheet), "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["imported"] == ["a", "b"] and len(body["problems"]) == 2
    assert f"{sheet}:4:" in body["problems"][0]

    plays = home.parent / "plays.csv"
    plays.write_text("user_id,title_id,timestamp,seconds\nu1,a,2026-01-01T00:00:00Z,30\n")
    assert run_cli("interactions", "import", str(plays)).exit_code == 0
    services = Services.from_settings(Settings(home=home))
    try:
        assert services.catalog.get_title("a").genres == ("drama", "comedy")
        assert services.catalog.count_interactions() == 1
    finally:
        services.close()


def test_a_file_without_the_columns_exits_1(run_cli: Callable[..., Any], home: Path) -> None:
    sheet = home.parent / "titles.csv"
    sheet.write_text("id,title\n1,x\n")
    result = run_cli("titles", "import", str(sheet))
    assert result.exit_code == 1 and "missing column" in result.stderr
