from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from artwork.config import Settings
from artwork.testing.catalog import seed_title
from artwork.wiring import Services

HEADER = "user_id,title_id,timestamp,seconds,duration\n"


@pytest.fixture
def catalogue(home: Path) -> Services:
    services = Services.from_settings(Settings(home=home))
    seed_title(services.catalog, services.media, "space", genres=("sci-fi",), variants=1)
    seed_title(services.catalog, services.media, "cats", genres=("comedy",), variants=1, seed=1)
    return services


def _csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "plays.csv"
    path.write_text(HEADER + "".join(f"{r}\n" for r in rows))
    return path


def test_import_all_rows(run_cli: Callable[..., Any], catalogue: Services, tmp_path: Path) -> None:
    path = _csv(tmp_path, "u1,space,2026-05-01T10:00:00Z,30,", "u2,cats,1777000000,60,60")
    result = run_cli("interactions", "import", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"imported 2 of 2 rows from {path} (0 rejected)\n"
    assert result.stderr == ""
    assert catalogue.catalog.count_interactions() == 2


def test_bad_rows_are_reported_by_line_and_the_rest_imported(
    run_cli: Callable[..., Any], catalogue: Services, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "u1,space,2026-05-01T10:00:00Z,30,",  # line 2
        "u1,nowhere,2026-05-01T10:00:00Z,30,",  # line 3: unknown title
        "u2,cats,2026-05-01T10:00:00Z,-1,",  # line 4: impossible
        "u3,cats,2026-05-01T10:00:00Z,20,",  # line 5
    )
    result = run_cli("interactions", "import", str(path))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"{path}:3: unknown title 'nowhere'",
        f"{path}:4: seconds must be >= 0, got -1",
    ]
    assert "imported 2 of 4 rows" in result.stdout and "(2 rejected)" in result.stdout
    assert catalogue.catalog.count_interactions() == 2
    as_json = run_cli("interactions", "import", str(path), "--json")
    payload = json.loads(as_json.stdout)
    assert payload["imported"] == 2 and payload["rows"] == 4
    assert [r["line"] for r in payload["rejected"]] == [3, 4]
    assert catalogue.catalog.count_interactions() == 4


def test_strict_imports_nothing_when_a_row_is_bad(
    run_cli: Callable[..., Any], catalogue: Services, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "u1,space,2026-05-01T10:00:00Z,30,", "u1,nowhere,2026-05-01,30,")
    result = run_cli("interactions", "import", str(path), "--strict")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("artwork: error: 1 rows rejected")
    assert catalogue.catalog.count_interactions() == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read"),
        ("", "is empty"),
        ("member,title\nu1,space\n", "no column user_id"),
        (b"user_id,title_id,timestamp,seconds\n\xff\xfe\n", "not UTF-8"),
    ],
)
def test_unreadable_file_exits_1_with_one_line(
    run_cli: Callable[..., Any],
    catalogue: Services,
    tmp_path: Path,
    content: str | bytes | None,
    expected: str,
) -> None:
    path = tmp_path / "plays.csv"
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    result = run_cli("interactions", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and expected in result.stderr
    assert result.stderr.startswith("artwork: error: ")
    assert catalogue.catalog.count_interactions() == 0


def test_usage_errors_exit_2(run_cli: Callable[..., Any]) -> None:
    assert run_cli("interactions").exit_code == 2
    assert run_cli("interactions", "import").exit_code == 2
