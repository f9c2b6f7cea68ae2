"""``artwork serve`` runs the learner in a process of its own (``ARTWORK_LEARNER=process``):
it learns the rewards the workers record, is started again when it dies, and stops with the
server (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from artwork.config import Settings
from artwork.testing.catalog import seed_title
from artwork.testing.keys import bearer, make_key
from artwork.testing.server import free_port
from artwork.testing.waiting import wait_for
from artwork.wiring import Services

pytestmark = pytest.mark.slow

ENV = {
    "ARTWORK_COMMIT_GRACE_S": "0.2",
    "ARTWORK_SNAPSHOT_INTERVAL_S": "0.2",
    "ARTWORK_SNAPSHOT_POLL_S": "0.2",
    "ARTWORK_LEARN_INTERVAL_S": "0.1",
}


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie nobody has reaped yet counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def learner_children(parent: int) -> list[int]:
    """The ``artwork learn`` processes whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == parent and b"learn" in command:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_the_learner_process_learns_restarts_and_stops_with_the_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    services = Services.from_settings(Settings(home=home))
    seed_title(services.catalog, services.media, "t1", variants=3)
    headers = bearer(make_key(services.engine, "client"))
    services.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "artwork.cli.main", "serve", "--port", str(port)],
            env=os.environ | ENV | {"ARTWORK_HOME": str(home), "ARTWORK_WORKERS": "2"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_for(lambda: len(learner_children(server.pid)) == 1, 60), log.read_text()
        (first,) = learner_children(server.pid)

        def reward_learned(member: str, after: int = 0) -> int:
            """Serve a page, reward its title; the model version past ``after`` (and past the
            answering worker's) that a worker reaches. The two workers follow snapshots each
            on its own poll, so a later answer may come from one still a version behind."""
            page = httpx.get(
                f"{base}/v1/homepage", params={"user_id": member}, headers=headers, timeout=30
            ).json()
            event_id = page["rows"][0]["items"][0]["artwork"]["event_id"]
            posted = httpx.post(
                f"{base}/v1/rewards", json={"event_id": event_id, "value": 1.0}, headers=headers
            )
            assert posted.status_code == 200 and posted.json()["recorded"]
            before = max(posted.json()["model_version"], after)
            reached: list[int] = []

            def newer() -> bool:
                reached.append(int(ready(base)["model_version"]))
                return reached[-1] > before

            assert wait_for(newer, 60), log.read_text()
            assert ready(base)["checks"]["learner"] == "process"
            return reached[-1]

        assert wait_for(_answers(base), 60), log.read_text()
        version = reward_learned("m1")

        # Killed, the learner process is started again and goes on from its snapshot.
        os.kill(first, signal.SIGKILL)
        assert wait_for(
            lambda: any(p != first and alive(p) for p in learner_children(server.pid)), 30
        )
        assert reward_learned("m2", after=version) > version
        (second,) = [p for p in learner_children(server.pid) if alive(p)]

        # The server stops cleanly, and its learner process with it.
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        assert wait_for(lambda: not alive(second), 10)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    text = log.read_text()
    assert "stopped at model version" in text  # the last learner saved its snapshot


def ready(base: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{base}/readyz", timeout=10).json()
    return answer


def _answers(base: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    return check


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_a_learner_whose_parent_dies_stops_and_leaves_ctrl_c_to_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Services.from_settings(Settings(home=home)).close()
    # A shell stands in for the server: it starts the learner with itself as --parent.
    shell = subprocess.Popen(
        [
            "sh",
            "-c",
            f'"{sys.executable}" -m artwork.cli.main learn --parent $$ --interval 0.1 & '
            "echo $!; wait",
        ],
        env=os.environ | {"ARTWORK_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert shell.stdout is not None
    with shell.stdout:
        learner = int(shell.stdout.readline())
    try:
        time.sleep(1.0)
        assert alive(learner)  # its parent runs: it learns on
        os.kill(learner, signal.SIGINT)  # Ctrl-C is its parent's to handle
        time.sleep(0.5)
        assert alive(learner)
        shell.kill()
        shell.wait()
        assert wait_for(lambda: not alive(learner), 15)
    finally:
        if alive(learner):
            os.kill(learner, signal.SIGKILL)
