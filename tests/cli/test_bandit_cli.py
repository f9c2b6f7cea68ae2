"""``artwork learn``, ``evaluate``, ``decisions export|import`` and ``simulate``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from artwork.bandit.artwork_bandit import ArtworkBandit
from artwork.bandit.log import DecisionLog
from artwork.catalog.database import create_database_engine
from artwork.config import Settings
from artwork.domain import Context, Variant, VariantStatus


def variants(title_id: str) -> list[Variant]:
    return [
        Variant(
            f"{title_id}-v{i}", title_id, i, float(i), 0.5, {"sharpness": 0.2 * i},
            {"face": 1.0} if i % 2 else {"landscape": 1.0}, "e", "p", 1, 1,
            VariantStatus.APPROVED,
        )
        for i in range(3)
    ]  # fmt: skip


@pytest.fixture
def logged(home: Path) -> Path:
    """Forty decisions two hours old (a third rewarded) and two still pending."""
    url = f"sqlite:///{home / 'artwork.db'}"
    engine = create_database_engine(url)
    clock = {"now": datetime.now(UTC) - timedelta(hours=2)}
    settings = Settings(home=home, consistency_window_s=0)
    bandit = ArtworkBandit(
        engine, settings, rng=np.random.default_rng(0), clock=lambda: clock["now"]
    )
    for n in range(40):
        decision = bandit.choose(Context(f"u{n % 7}", "tv", 20, 5), "t1", variants("t1"))
        if n % 3 == 0:
            bandit.reward(decision.event_id, 1.0)
    clock["now"] = datetime.now(UTC)
    for n in range(2):
        bandit.choose(Context(f"p{n}", "tv", 20, 5), "t1", variants("t1"))
    engine.dispose()
    return home / "artwork.db"


def test_learn_once_learns_what_is_ready(run_cli: Callable[..., Any], logged: Path) -> None:
    result = run_cli("learn", "--once")
    assert result.exit_code == 0, result.stderr
    assert "learned 40 events" in result.stdout

    again = run_cli("learn", "--once")
    assert "learned 0 events" in again.stdout


def test_learn_refuses_to_switch_exploration_without_a_rebuild(
    run_cli: Callable[..., Any], logged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from artwork.config import get_settings

    assert run_cli("learn", "--once").exit_code == 0
    monkeypatch.setenv("ARTWORK_EXPLORATION", "softmax")
    get_settings.cache_clear()

    refused = run_cli("learn", "--once")
    assert refused.exit_code == 1 and "--rebuild" in refused.stderr
    rebuilt = run_cli("learn", "--once", "--rebuild")
    assert rebuilt.exit_code == 0 and "learned 40 events" in rebuilt.stdout


def test_learn_rejects_a_bad_interval(run_cli: Callable[..., Any]) -> None:
    assert run_cli("learn", "--interval", "0").exit_code == 2


def test_evaluate_prints_a_table_and_writes_a_plot(
    run_cli: Callable[..., Any], logged: Path, tmp_path: Path
) -> None:
    plot = tmp_path / "ope.png"
    result = run_cli(
        "evaluate", "--policy", "logged", "--policy", "softmax:lambda=5", "--plot", str(plot)
    )
    assert result.exit_code == 0, result.stderr
    assert "40 resolved decisions (2 still pending)" in result.stdout
    assert "softmax:lambda=5" in result.stdout and "snips" in result.stdout
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_evaluate_json(run_cli: Callable[..., Any], logged: Path) -> None:
    result = run_cli("evaluate", "--json", "--bootstrap", "50")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert (payload["events"], payload["pending"]) == (40, 2)
    assert [p["policy"] for p in payload["policies"]] == [
        "logged", "current", "baseline", "uniform"
    ]  # fmt: skip
    logged_policy = payload["policies"][0]
    assert logged_policy["ess"] == pytest.approx(40)


def test_evaluate_takes_constant_policies_and_warns_about_small_samples(
    run_cli: Callable[..., Any], logged: Path
) -> None:
    specs = ["always:rank=1", "epsilon_greedy:learning_rate=0.1", "logged"]
    result = run_cli("evaluate", "--json", *(f"--policy={spec}" for spec in specs))
    assert result.exit_code == 0, result.stderr
    policies = json.loads(result.stdout)["policies"]
    assert [p["policy"] for p in policies] == specs
    always = policies[0]
    assert always["ess"] < 100 and "effective sample size" in always["warnings"][0]
    assert set(always["estimates"]["dr"]) == {"value", "low", "high", "clipped"}
    assert "replay_kept" in always
    quiet = run_cli("evaluate", "--json", "--policy", "logged", "--min-ess", "5")
    assert json.loads(quiet.stdout)["policies"][0]["warnings"] == []
    table = run_cli("evaluate", "--policy", "always:rank=1")
    assert "warning: always:rank=1: effective sample size" in table.stdout


def test_evaluate_names_a_bad_policy_and_an_empty_log(run_cli: Callable[..., Any]) -> None:
    bad = run_cli("evaluate", "--policy", "thompson")
    assert bad.exit_code == 1 and "thompson" in bad.stderr
    empty = run_cli("evaluate")
    assert empty.exit_code == 1 and "no event" in empty.stderr


def test_decisions_export_then_import_elsewhere(
    run_cli: Callable[..., Any],
    logged: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from artwork.config import get_settings

    out = tmp_path / "log.dsjson"
    exported = run_cli("decisions", "export", str(out))
    assert exported.exit_code == 0, exported.stderr
    assert "exported 40 decisions (2 pending left out)" in exported.stdout
    lines = out.read_text().splitlines()
    assert len(lines) == 40 and json.loads(lines[0])["_label_probability"] > 0

    monkeypatch.setenv("ARTWORK_HOME", str(tmp_path / "elsewhere"))
    get_settings.cache_clear()
    imported = run_cli("decisions", "import", str(out))
    assert imported.exit_code == 0, imported.stderr
    assert "imported 40 decisions with 14 rewards (0 already in the log)" in imported.stdout
    assert "learned 40 events" in run_cli("learn", "--once").stdout
    engine = create_database_engine(f"sqlite:///{tmp_path / 'elsewhere' / 'artwork.db'}")
    assert DecisionLog(engine).count() == 40
    engine.dispose()


def test_decisions_import_of_a_bad_file_exits_1(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.dsjson"
    bad.write_text("{nope\n")
    result = run_cli("decisions", "import", str(bad))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "bad.dsjson:1" in result.stderr


def test_simulate_small_world_json_and_export(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    out = tmp_path / "sim.dsjson"
    result = run_cli(
        "simulate", "--decisions", "400", "--members", "40", "--titles", "6",
        "--variants", "4", "--page-size", "4", "--json", "--export", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["decisions"] == 400
    assert set(payload["take_fraction"]) == {"random", "best_single", "contextual", "oracle"}
    assert payload["take_fraction"]["oracle"] >= payload["take_fraction"]["best_single"]
    assert len(out.read_text().splitlines()) == 400


def test_simulate_names_bad_sizes(run_cli: Callable[..., Any]) -> None:
    result = run_cli("simulate", "--members", "0")
    assert result.exit_code == 1 and "members" in result.stderr
    result = run_cli("simulate", "--page-size", "500")
    assert result.exit_code == 1 and "page-size" in result.stderr


@pytest.mark.postgres
def test_a_learner_names_its_database_without_the_password(
    run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``artwork serve`` shows its learner process's output in the server's log."""
    from sqlalchemy.engine import make_url

    from artwork.config import get_settings
    from artwork.testing.postgres import postgres_engine, postgres_url

    postgres_engine().dispose()  # skips where no PostgreSQL answers
    url = make_url(postgres_url()).set(password="s3cret-pw")  # trust auth ignores it
    monkeypatch.setenv("ARTWORK_DATABASE_URL", url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    # A --parent that is not this process's parent: it stops at its first look.
    result = run_cli("learn", "--parent", "1", "--interval", "0.1")
    assert result.exit_code == 0, result.stderr
    assert "learning from postgresql" in result.stderr and "***" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout
