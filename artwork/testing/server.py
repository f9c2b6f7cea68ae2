"""A real ``artwork serve`` process on a free local port, for tests that speak HTTP to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(
    home: Path, *, startup_timeout_s: float = 60.0, env: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Run ``artwork serve`` on ``home`` and yield its base URL; stop it afterwards.

    ``env`` adds environment variables (settings) for the server process.

    Raises:
        RuntimeError: the server did not answer ``/healthz`` in time (its log is in the message).
    """
    port = free_port()
    log_path = home / "server.log"
    home.mkdir(parents=True, exist_ok=True)
    env = os.environ | dict(env or {}) | {"ARTWORK_HOME": str(home)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "artwork.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_timeout_s
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"artwork serve did not start: {log_path.read_text()}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)
