from __future__ import annotations

import json
from pathlib import Path

import pytest

from artwork.bench.ranking import BenchmarkOptions, format_table, main, run

TINY = [
    "--titles",
    "120",
    "--users",
    "300",
    "--interactions",
    "3000",
    "--genres",
    "6",
    "--eval-users",
    "50",
    "--page-users",
    "10",
    "--pages",
    "30",
]


def test_json_has_the_promised_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*TINY, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"rankers", "page_ms_p50", "train_seconds", "peak_rss_mb"} <= set(result)
    assert {
        "popularity",
        "trending",
        "personalized",
        "because_you_watched",
        "genre",
        "content",
        "continue_watching",
        "top_picks",
    } == set(result["rankers"])
    for metrics in result["rankers"].values():
        assert 0.0 <= metrics["recall@10"] <= 1.0 and 0.0 <= metrics["ndcg@10"] <= 1.0
    assert set(result["selectors"]) == {"row_ranking", "stagewise", "learned"}
    assert result["selectors"]["stagewise"]["first_screen_distinct"] == 1.0
    assert result["page_model"]["rows"] > 0
    assert result["train_seconds"] > 0 and result["page_ms_p50"] > 0
    for split in ("global", "member"):
        table = result["splits"][split]
        assert table["members"] > 0 and table["eligible_members"] >= table["members"]
        for row in table["rankers"].values():
            low, high = row["ndcg@10_ci"]
            assert low <= row["ndcg@10"] <= high
        assert table["comparison"]["best_non_personalised"] in {"popularity", "trending"}
    lift = result["page_lift"]
    assert lift["baseline"] == "row_ranking" and lift["members"] > 0
    learned = lift["learned"]
    assert learned["play_rate_ci"][0] <= learned["play_rate"] <= learned["play_rate_ci"][1]
    assert result["selectors"]["learned"]["held_out_attention"] is not None
    text = format_table(result)
    assert "recall@10" in text and "member split" in text and "members evaluated" in text


def test_one_split_at_a_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*TINY, "--json", "--split", "member", "--no-full-train"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["splits"]) == {"member"}
    assert "continue_watching" in result["rankers"]
    with pytest.raises(ValueError, match="splits"):
        BenchmarkOptions(splits=("sideways",))


@pytest.mark.slow
def test_personalised_rankers_beat_popularity_on_taste_structure() -> None:
    options = BenchmarkOptions(
        titles=1000,
        users=4000,
        interactions=60_000,
        genres=10,
        eval_users=400,
        page_users=40,
        pages=400,
        full_train=False,
    )
    result = run(options)
    # Top picks beats every non-personalised ranker under both protocols.
    for split in ("global", "member"):
        versus = result["splits"][split]["comparison"]
        assert versus["ranker"] == "top_picks" and versus["ndcg@10_ratio"] > 1.1
    assert result["splits"]["member"]["rankers"]["top_picks"]["ndcg_vs_popularity"] > 1.5
    assert result["rankers"]["personalized"]["lift_vs_popularity"] > 1.5
    assert result["rankers"]["because_you_watched"]["lift_vs_popularity"] > 1.0
    assert result["rankers"]["continue_watching"]["lift_vs_popularity"] > 2.0
    selectors = result["selectors"]
    assert selectors["stagewise"]["first_screen_distinct"] == 1.0
    assert (
        selectors["stagewise"]["first_screen_distinct"]
        > selectors["row_ranking"]["first_screen_distinct"]
    )


def test_csv_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from artwork.bench.catalogue import simulate_catalogue

    world = simulate_catalogue(titles=100, users=200, interactions=3000, genres=5, seed=2)
    path = tmp_path / "plays.csv"
    with path.open("w") as handle:
        handle.write("user_id,title_id,timestamp,seconds,duration\n")
        for p in world.log:
            handle.write(
                f"{p.user_id},{p.title_id},{p.timestamp.isoformat()},{p.seconds},{p.duration_s}\n"
            )
    assert (
        main(["--csv", str(path), "--eval-users", "50", "--page-users", "10", "--no-full-train"])
        == 0
    )
    out = capsys.readouterr().out
    assert "plays.csv" in out and "personalized" in out
    with pytest.raises(ValueError, match="users"):
        BenchmarkOptions(users=0)
