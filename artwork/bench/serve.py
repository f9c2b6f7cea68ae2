"""Benchmark of the whole server: ``artwork serve`` driven over loopback by ``wrk``.

For each database (SQLite in a fresh ``ARTWORK_HOME``; PostgreSQL at ``ARTWORK_DATABASE_URL``
when one answers), it generates a catalogue with the ranking benchmark's simulator (titles
with approved variants and crops, members with plays), trains the ranking once, starts the
server exactly as the README tells users to (``artwork serve --port P``: default workers,
default settings, apart from a page of ``rows x titles`` and the client key's rate limit:
the benchmark's one key stands for a whole client app, so ``ARTWORK_RATE_LIMIT_CLIENT`` is
raised to ``BENCH_RATE_LIMIT``, out of the way of the reward run; the limiter still runs), and
measures:

- ``homepage``: ``GET /v1/homepage`` at 16 and 64 connections for a bounded time, members
  cycling (a ``wrk`` Lua script), after a warm-up pass: requests/s, p50 and p99 latency,
  errors (socket errors plus non-2xx answers);
- ``decision_log_lag_ms_p99``: from a page's response to the start of the first poll
  (``GET /v1/decisions/{id}``, every millisecond, any worker) that finds its first decision,
  over sequential samples;
- ``rewards_per_s``: ``POST /v1/rewards`` over event ids of served pages, each answered
  only once committed; afterwards every acknowledged reward is checked in the database;
- ``bytes_per_decision``: SQLite pages of the ``decisions`` table, its indexes, the
  feature bodies and the per-variant counts (``dbstat``), divided by the decisions logged.

The load generator is Debian's ``wrk`` (compiled, one thread), so on a small machine the
figures measure the server rather than the client. The machine's load average is reported
with every run: figures taken on a busy machine are lower.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from artwork.bench.cpu import group_cpu_s, named_cpu_s, per_request_ms
from artwork.config import Settings
from artwork.domain import Interaction, Title, Variant, VariantCrop, VariantStatus

CONNECTIONS = (16, 64)
BENCH_RATE_LIMIT = 1_000_000
"""``ARTWORK_RATE_LIMIT_CLIENT`` of the benchmark's server (requests per second per key)."""


@dataclass(frozen=True)
class ServeBenchOptions:
    """What to generate and how long to drive it."""

    titles: int = 2000
    members: int = 20_000
    plays: int = 200_000
    variants: int = 5
    rows: int = 10
    row_size: int = 20
    seconds: float = 15.0
    warmup_seconds: float = 5.0
    reward_seconds: float = 10.0
    lag_samples: int = 60
    workers: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("titles", "members", "plays", "variants", "rows", "row_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.seconds <= 0 or self.reward_seconds <= 0:
            raise ValueError("seconds and reward_seconds must be > 0")


QUICK = ServeBenchOptions(
    titles=400, members=3000, plays=30_000, seconds=5.0, warmup_seconds=2.0, reward_seconds=4.0,
    lag_samples=20,
)  # fmt: skip


def find_wrk(install: bool = True) -> str:
    """The ``wrk`` executable; installed from Debian when missing and allowed (as root).

    Raises:
        RuntimeError: no ``wrk`` and it cannot be installed here (the message says how).
    """
    found = shutil.which("wrk")
    if found:
        return found
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise RuntimeError(
        "this benchmark drives the server with wrk, a compiled load generator: install it "
        "with `sudo apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`"
    )


def wrk_version(wrk: str) -> str:
    """``wrk``'s first line of ``-v`` output (its version)."""
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).splitlines()[0].strip()


# --- the catalogue ---------------------------------------------------------------------------
def build_catalogue(
    settings: Settings, options: ServeBenchOptions, log: Callable[[str], None]
) -> list[str]:
    """Generate titles, approved variants with crops and members' plays; train the ranking.

    Returns:
        The member ids.

    Raises:
        RuntimeError: the database already holds titles (the benchmark wants an empty one).
    """
    from artwork.bench.catalogue import simulate_catalogue
    from artwork.ranking.training import train
    from artwork.wiring import Services

    start = time.perf_counter()
    world = simulate_catalogue(
        titles=options.titles,
        users=options.members,
        interactions=options.plays,
        seed=options.seed,
    )
    rng = np.random.default_rng(options.seed)
    services = Services.from_settings(settings)
    try:
        if services.catalog.count_titles():
            raise RuntimeError(
                f"{settings.resolved_database_url} already holds titles: the benchmark needs an "
                "empty database (it adds a generated catalogue)"
            )
        now = datetime.now(UTC)
        tags = ("face", "landscape", "night", "action", "animal", "city", "text", "smile")
        for i, title in enumerate(world.titles):
            stored = Title(title.title_id, title.name, title.genres, title.duration_s, now)
            content = world.content[i]
            variants = []
            for rank in range(options.variants):
                variant_id = f"{title.title_id}-v{rank}"
                embedding = content + rng.normal(scale=0.3, size=content.shape).astype(np.float32)
                chosen = rng.choice(len(tags), size=3, replace=False)
                variants.append(
                    Variant(
                        variant_id=variant_id,
                        title_id=title.title_id,
                        rank=rank,
                        frame_time_s=float(10 * rank),
                        score=float(rng.uniform(0.3, 0.9)),
                        scores={
                            "sharpness": float(rng.uniform()),
                            "exposure": float(rng.uniform()),
                            "contrast": float(rng.uniform()),
                            "colourfulness": float(rng.uniform()),
                            "noise": float(rng.uniform()),
                            "composition": float(rng.uniform()),
                            "face_count": float(rng.integers(0, 4)),
                            "face_area": float(rng.uniform(0, 0.4)),
                        },
                        tags={tags[t]: float(rng.uniform(0.2, 1.0)) for t in chosen},
                        embedder="bench",
                        image_path=f"bench/{variant_id}.jpg",
                        width=1920,
                        height=1080,
                        status=VariantStatus.APPROVED,
                        explanation="generated for the serving benchmark",
                        embedding=(embedding / np.linalg.norm(embedding)).astype(np.float32),
                        crops={
                            "16:9": VariantCrop(
                                "16:9",
                                f"bench/{variant_id}-16x9.jpg",
                                (0, 0, 1920, 1080),
                                1280,
                                720,
                            ),
                            "2:3": VariantCrop(
                                "2:3", f"bench/{variant_id}-2x3.jpg", (600, 0, 720, 1080), 600, 900
                            ),
                        },
                    )
                )
            services.catalog.add_title(stored, variants)
        plays = list(world.log)
        for begin in range(0, len(plays), 50_000):
            services.catalog.add_interactions(
                [
                    Interaction(p.user_id, p.title_id, p.timestamp, p.seconds, p.duration_s)
                    for p in plays[begin : begin + 50_000]
                ]
            )
        log(
            f"catalogue: {options.titles} titles x {options.variants} variants, "
            f"{len(world.log.user_ids)} members, {len(plays)} plays "
            f"({time.perf_counter() - start:.0f} s)"
        )
        start = time.perf_counter()
        report = train(services.catalog, settings)
        log(f"ranking trained: version {report.version} ({time.perf_counter() - start:.0f} s)")
    finally:
        services.close()
    return list(world.log.user_ids)


# --- the server ------------------------------------------------------------------------------
class Server:
    """``artwork serve --port P`` in its own process group, stopped with SIGTERM."""

    def __init__(self, env: dict[str, str], port: int, workers: int | None, log_path: Path):
        command = [sys.executable, "-m", "artwork.cli.main", "serve", "--port", str(port)]
        if workers is not None:
            command += ["--workers", str(workers)]
        self.command = command
        self.base = f"http://127.0.0.1:{port}"
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.log_path = log_path

    def wait_ready(self, timeout_s: float = 120.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server did not start:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


# --- wrk -------------------------------------------------------------------------------------
_HOMEPAGE_LUA = """
members = {%s}
counter = 0
request = function()
  counter = counter + 1
  local m = members[(counter %% #members) + 1]
  return wrk.format("GET", "/v1/homepage?user_id=" .. m .. "&device=tv",
                    {["Authorization"] = "Bearer %s"})
end
"""

_REWARDS_LUA = """
bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
counter = 0
request = function()
  counter = counter + 1
  local body = bodies[((counter - 1) %% #bodies) + 1]
  return wrk.format("POST", "/v1/rewards",
                    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %s"}, body)
end
"""


def run_wrk(
    wrk: str, base: str, script: Path, connections: int, seconds: float, path: str = "/"
) -> dict[str, float]:
    """Run ``wrk -t1`` and parse its report: rps, p50/p99 in ms, errors, requests."""
    result = subprocess.run(
        [
            wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
            "--timeout", "10s", "-s", str(script), base + path,
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return parse_wrk(result.stdout)


def parse_wrk(output: str) -> dict[str, float]:
    """The figures of a ``wrk --latency`` report."""

    def latency(label: str) -> float:
        found = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000.0 if unit == "us" else value * 1000.0 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    if sockets:
        errors += sum(int(g) for g in sockets.groups())
    return {
        "rps": round(float(rps.group(1)), 1) if rps else 0.0,
        "p50_ms": round(latency("50"), 1),
        "p99_ms": round(latency("99"), 1),
        "errors": errors,
        "requests": int(total.group(1)) if total else 0,
    }


# --- one database ----------------------------------------------------------------------------
def bench_database(
    name: str,
    env: dict[str, str],
    settings: Settings,
    options: ServeBenchOptions,
    wrk: str,
    work: Path,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Generate, serve and measure on one database."""
    import httpx

    from artwork.catalog.database import create_database_engine
    from artwork.catalog.keys import KeyStore
    from artwork.testing.server import free_port

    members = build_catalogue(settings, options, log)
    # One client key, as a client app holds one for all its members.
    engine = create_database_engine(settings.resolved_database_url)
    try:
        key = KeyStore(engine).create(["client"], "bench_serve").key
    finally:
        engine.dispose()
    headers = {"Authorization": f"Bearer {key}"}
    port = free_port()
    server = Server(env, port, options.workers, work / f"server-{name}.log")
    result: dict[str, Any] = {}
    database_cpu = (lambda: named_cpu_s("postgres")) if _local_postgres(settings) else None

    def measured(script: Path, connections: int, seconds: float) -> dict[str, Any]:
        """A wrk run with the CPU the server (and a local PostgreSQL) spent per request."""
        group = server.process.pid  # the server runs in a session (process group) of its own
        server_before = group_cpu_s(group)
        database_before = database_cpu() if database_cpu is not None else None
        figures: dict[str, Any] = dict(run_wrk(wrk, server.base, script, connections, seconds))
        requests = int(figures["requests"])
        figures["server_cpu_ms_per_request"] = per_request_ms(
            lambda: group_cpu_s(group), server_before, requests
        )
        if database_cpu is not None:
            figures["database_cpu_ms_per_request"] = per_request_ms(
                database_cpu, database_before, requests
            )
        figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
        return figures

    try:
        server.wait_ready()
        log(f"server: {' '.join(server.command[1:])} (pid {server.process.pid})")
        lua = work / "homepage.lua"
        cycle = members[: min(len(members), 20_000)]
        lua.write_text(_HOMEPAGE_LUA % (",".join(f'"{m}"' for m in cycle), key))
        run_wrk(wrk, server.base, lua, 16, options.warmup_seconds)
        homepage: dict[str, dict[str, Any]] = {}
        for connections in CONNECTIONS:
            figures = measured(lua, connections, options.seconds)
            homepage[str(connections)] = figures
            log(f"{name} homepage c={connections}: {json.dumps(figures)}")
        result["homepage"] = homepage

        # Decision log lag, from the page's response to its decision being readable.
        lags = []
        failed = 0
        with httpx.Client(base_url=server.base, headers=headers, timeout=120) as client:
            for i in range(options.lag_samples):
                try:
                    page = client.get("/v1/homepage", params={"user_id": members[i]})
                    answered = time.perf_counter()
                    event_id = page.json()["rows"][0]["items"][0]["artwork"]["event_id"]
                    while True:
                        # The lag ends by the start of the first poll that finds the row
                        # (its own answer time, long on a busy machine, is not the lag).
                        started = time.perf_counter()
                        if client.get(f"/v1/decisions/{event_id}").status_code == 200:
                            break
                        time.sleep(0.001)
                except httpx.HTTPError:
                    failed += 1
                    continue
                lags.append(max(0.0, started - answered) * 1000.0)
        result["lag_samples_failed"] = failed
        lag = float(np.percentile(lags, 99)) if lags else float("nan")
        result["decision_log_lag_ms_p99"] = round(lag, 1)
        log(f"{name} decision log lag p99: {result['decision_log_lag_ms_p99']} ms")

        # Rewards over event ids of served pages.
        def page_ids(member: str) -> list[str]:
            with httpx.Client(base_url=server.base, headers=headers, timeout=120) as client:
                body = client.get("/v1/homepage", params={"user_id": member}).json()
            return [i["artwork"]["event_id"] for r in body["rows"] for i in r["items"]]

        wanted = int(4000 * options.reward_seconds)
        ids: list[str] = []
        with ThreadPoolExecutor(4) as pool:
            for found in pool.map(page_ids, members[100 : 100 + max(1, wanted // 100)]):
                ids += found
        ids = list(dict.fromkeys(ids))  # a title in two rows shares one decision
        bodies = work / "rewards.txt"
        bodies.write_text("\n".join(json.dumps({"event_id": e, "value": 1.0}) for e in ids) + "\n")
        reward_lua = work / "rewards.lua"
        reward_lua.write_text(_REWARDS_LUA % (bodies, key))
        rewards = measured(reward_lua, 16, options.reward_seconds)
        result["rewards"] = rewards
        result["rewards_per_s"] = rewards["rps"]
        result["reward_ids"] = len(ids)
        log(f"{name} rewards: {json.dumps(rewards)} over {len(ids)} event ids")
    finally:
        server.stop()
    problems = [
        line
        for line in server.log_path.read_text(errors="replace").splitlines()
        if "WARNING" in line or "ERROR" in line or "Traceback" in line
    ]
    result["server_log_problems"] = len(problems)
    for line in problems[:5]:
        log(f"{name} server log: {line[:200]}")
    # After a clean shutdown every decision is written and every acknowledged reward stored:
    # each distinct event id was posted once (the run is shorter than the list).
    rewards = result.get("rewards", {})
    acknowledged = min(rewards.get("requests", 0), result.get("reward_ids", 0))
    acknowledged -= rewards.get("errors", 0)
    stored = _count(settings, "rewards")
    result["rewards_acknowledged"] = acknowledged
    result["rewards_stored"] = stored
    result["rewards_lost"] = max(0, acknowledged - stored)
    result["decisions"] = _count(settings, "decisions")
    if name == "sqlite":
        result["bytes_per_decision"] = _bytes_per_decision(settings, result["decisions"])
    return result


def _local_postgres(settings: Settings) -> bool:
    """Whether the database is a PostgreSQL server on this machine (its CPU can be read)."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url)
    return url.get_backend_name() == "postgresql" and (url.host or "localhost") in (
        "localhost",
        "127.0.0.1",
        "::1",
    )


def _count(settings: Settings, table: str) -> int:
    from sqlalchemy import text

    from artwork.catalog.database import create_database_engine

    engine = create_database_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
    finally:
        engine.dispose()


def _bytes_per_decision(settings: Settings, count: int) -> float:
    """SQLite pages of decisions, their indexes, feature bodies and counts, per decision."""
    import sqlite3

    path = settings.home / "artwork.db"
    conn = sqlite3.connect(path)
    try:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_schema WHERE tbl_name IN ('decisions', "
                "'decision_features', 'decision_counts')"
            )
        ]
        used = 0
        for name in names:
            row = conn.execute(
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ?", (name,)
            ).fetchone()
            used += int(row[0])
    finally:
        conn.close()
    return round(used / max(count, 1), 1)


def _postgres_url() -> str | None:
    url = os.environ.get("ARTWORK_DATABASE_URL")
    if not url or not url.startswith("postgresql"):
        return None
    return url


def _reachable(url: str) -> str | None:
    """None if the database answers, else why not."""
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: skip this database, say why
        return str(exc).splitlines()[0]
    return None


def _reset_postgres(url: str) -> None:
    from artwork.catalog.database import create_database_engine
    from artwork.catalog.schema import metadata

    engine = create_database_engine(url)
    metadata.drop_all(engine)
    engine.dispose()


def run(
    options: ServeBenchOptions,
    *,
    reset_postgres: bool = False,
    only: str | None = None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Run the benchmark on SQLite and (when reachable) PostgreSQL; the JSON-able result."""
    wrk = find_wrk()
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
            "python": sys.version.split()[0],
        },
        "load_generator": f"{wrk} ({wrk_version(wrk)}), -t1",
        "options": {
            k: getattr(options, k)
            for k in ("titles", "members", "plays", "variants", "rows", "row_size", "seconds")
        },
        "homepage": {},
        "decision_log_lag_ms_p99": {},
        "rewards_per_s": {},
    }
    log(f"load generator: {result['load_generator']}; load average {os.getloadavg()[0]:.2f}")
    databases: list[tuple[str, str | None]] = [("sqlite", None)]
    postgres = _postgres_url()
    if postgres is None:
        log("postgres: skipped (set ARTWORK_DATABASE_URL=postgresql+psycopg://... to include it)")
    else:
        why = _reachable(postgres)
        if why is not None:
            log(f"postgres: skipped ({postgres} does not answer: {why})")
        else:
            databases.append(("postgres", postgres))
    for name, url in databases:
        if only is not None and name != only:
            continue
        with tempfile.TemporaryDirectory(prefix=f"artwork-bench-{name}-") as folder:
            home = Path(folder)
            env = {k: v for k, v in os.environ.items() if not k.startswith("ARTWORK_")} | {
                "ARTWORK_HOME": str(home),
                "ARTWORK_PAGE_ROWS": str(options.rows),
                "ARTWORK_ROW_SIZE": str(options.row_size),
                # One client key stands for a whole client app here; the default limit per
                # key (1,000 requests/s per process) would cap the reward run, not the server.
                # The limiter still runs for every request.
                "ARTWORK_RATE_LIMIT_CLIENT": str(BENCH_RATE_LIMIT),
                "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            }
            if url is not None:
                if reset_postgres:
                    _reset_postgres(url)
                env["ARTWORK_DATABASE_URL"] = url
            settings = Settings(
                home=home,
                database_url=url,
                page_rows=options.rows,
                row_size=options.row_size,
            )
            figures = bench_database(name, env, settings, options, wrk, home, log)
        result["homepage"][name] = figures.pop("homepage")
        result["decision_log_lag_ms_p99"][name] = figures.pop("decision_log_lag_ms_p99")
        result["rewards_per_s"][name] = figures.pop("rewards_per_s")
        if "bytes_per_decision" in figures:
            result["bytes_per_decision"] = figures.pop("bytes_per_decision")
        result.setdefault("details", {})[name] = figures
    result["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def format_table(result: dict[str, Any]) -> str:
    """The figures as a short text table."""
    lines = [
        f"load generator: {result['load_generator']}",
        f"machine: {result['machine']['cpus']} CPUs, load average at start "
        f"{result['machine']['load_avg_at_start']}, at end {result['machine']['load_avg_at_end']}",
        f"{'database':<10} {'conns':>5} {'pages/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'server CPU ms/page':>19} {'database CPU ms/page':>21}",
    ]
    for database, runs in result["homepage"].items():
        for connections, figures in runs.items():
            server_cpu = figures.get("server_cpu_ms_per_request")
            database_cpu = figures.get("database_cpu_ms_per_request")
            lines.append(
                f"{database:<10} {connections:>5} {figures['rps']:>9.1f} {figures['p50_ms']:>8.1f}"
                f" {figures['p99_ms']:>8.1f} {figures['errors']:>7}"
                f" {'-' if server_cpu is None else server_cpu:>19}"
                f" {'-' if database_cpu is None else database_cpu:>21}"
            )
    for database in result["homepage"]:
        lines.append(
            f"{database}: rewards/s {result['rewards_per_s'][database]}, decision log lag p99 "
            f"{result['decision_log_lag_ms_p99'][database]} ms"
        )
    if "bytes_per_decision" in result:
        lines.append(f"sqlite bytes per decision: {result['bytes_per_decision']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench_serve.py", description="Benchmark artwork serve with wrk."
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--quick", action="store_true", help="a small catalogue, short runs")
    parser.add_argument("--titles", type=int, help="titles (default 2000)")
    parser.add_argument("--members", type=int, help="members with plays (default 20000)")
    parser.add_argument("--seconds", type=float, help="seconds per homepage run (default 15)")
    parser.add_argument("--workers", type=int, help="server workers (default: artwork's)")
    parser.add_argument("--only", choices=("sqlite", "postgres"), help="one database only")
    parser.add_argument(
        "--reset-postgres",
        action="store_true",
        help="drop every artwork table in ARTWORK_DATABASE_URL first (a benchmark database)",
    )
    args = parser.parse_args(argv)
    options = QUICK if args.quick else ServeBenchOptions()
    changes = {
        k: v
        for k, v in (
            ("titles", args.titles),
            ("members", args.members),
            ("seconds", args.seconds),
            ("workers", args.workers),
        )
        if v is not None
    }
    if changes:
        from dataclasses import replace

        options = replace(options, **changes)
    try:
        result = run(
            options,
            reset_postgres=args.reset_postgres,
            only=args.only,
            log=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except RuntimeError as exc:
        print(f"bench_serve: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=1) if args.json else format_table(result))
    return 0
