"""``kill -9`` of ``artwork serve`` under a reward load: no acknowledged reward is lost, and
after a restart the learner resumes and learns each reward exactly once (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from artwork.bandit.log import DecisionLog, event_key
from artwork.catalog.database import create_database_engine
from artwork.catalog.schema import decisions, rewards
from artwork.config import Settings
from artwork.testing.catalog import seed_title
from artwork.testing.keys import bearer, make_key
from artwork.testing.server import free_port
from artwork.testing.waiting import wait_for
from artwork.wiring import Services

pytestmark = pytest.mark.slow

ENV = {
    "ARTWORK_COMMIT_GRACE_S": "0.5",
    "ARTWORK_SNAPSHOT_INTERVAL_S": "0.5",
    "ARTWORK_LEARN_INTERVAL_S": "0.2",
    "ARTWORK_RATE_LIMIT_CLIENT": "0",  # a crash test: every reward goes through
}


def start(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | ENV | {"ARTWORK_HOME": str(home)}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "artwork.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers share its process group: kill them all
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError(f"artwork serve did not start: {log.read_text()[-2000:]}")


def test_kill_9_under_reward_load_loses_no_acknowledged_reward(tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = Services.from_settings(Settings(home=home))
    for index in range(8):
        seed_title(services.catalog, services.media, f"t{index}", variants=3, seed=index)
    headers = bearer(make_key(services.engine, "client"))
    services.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    server = start(home, port, log)
    acknowledged: list[str] = []
    try:
        event_ids = []
        for member in range(40):
            page = httpx.get(
                f"{base}/v1/homepage",
                params={"user_id": f"m{member}"},
                headers=headers,
                timeout=30,
            )
            event_ids += [i["artwork"]["event_id"] for r in page.json()["rows"] for i in r["items"]]
        lock = threading.Lock()

        def post(ids: list[str]) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
                for event_id in ids:
                    try:
                        answer = client.post(
                            "/v1/rewards", json={"event_id": event_id, "value": 1.0}
                        )
                    except httpx.TransportError:
                        return  # the server is gone
                    if answer.status_code == 200:
                        with lock:
                            acknowledged.append(event_id)

        workers = [threading.Thread(target=post, args=(event_ids[i::4],)) for i in range(4)]
        for worker in workers:
            worker.start()
        assert wait_for(lambda: len(acknowledged) >= len(event_ids) // 3, timeout=60)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        for worker in workers:
            worker.join(timeout=30)
        assert 0 < len(acknowledged) < len(event_ids)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    # Every acknowledged reward is stored.
    engine = create_database_engine(f"sqlite:///{home / 'artwork.db'}")
    with engine.connect() as conn:
        stored = set(conn.scalars(select(rewards.c.event_id)))
    assert {event_key(e) for e in acknowledged} <= stored

    # Restarted, the learner resumes and learns every rewarded decision exactly once.
    server = start(home, port, log)
    try:
        with engine.connect() as conn:
            joined = conn.scalar(
                select(func.count()).select_from(
                    rewards.join(decisions, decisions.c.event_id == rewards.c.event_id)
                )
            )
        # Every page was served (and its decisions written) well before the kill.
        assert joined == len(stored)

        def learned() -> int:
            checkpoint = DecisionLog(engine).models.latest_checkpoint()
            return -1 if checkpoint is None else checkpoint.events_learned

        assert wait_for(lambda: learned() == joined, timeout=60), (learned(), joined)
        time.sleep(2.0)  # a few more passes: nothing is learned twice
        assert learned() == joined
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        engine.dispose()
