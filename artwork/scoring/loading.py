"""Loading an embedder in the background, so decoding never waits for a model.

An ingest decodes and analyses the video first and needs the embedder only for the sampled
frames, seconds later. :class:`EmbedderLoader` builds it in a daemon thread from the moment
:meth:`~EmbedderLoader.start` is called; :meth:`~EmbedderLoader.get` waits for it (usually it
is long ready) and hands it over, or raises what building it raised. Loading releases the GIL
for most of its time (reading files, ONNX Runtime's graph optimisation, torch's native
imports), so on two cores it runs beside the decoder rather than after it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait

from artwork.config import Settings
from artwork.scoring.base import Embedder

logger = logging.getLogger(__name__)


class EmbedderLoader:
    """Builds one embedder with ``factory(settings)`` in a background thread, once.

    A build that failed is tried again by the next :meth:`start` (or :meth:`get`), so a
    fixed installation recovers without a restart.

    Args:
        factory: builds the embedder (``artwork.scoring.registry.create_embedder``).
        settings: passed to ``factory``.
    """

    def __init__(self, factory: Callable[[Settings], Embedder], settings: Settings) -> None:
        self._factory = factory
        self._settings = settings
        self._future: Future[Embedder] | None = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None
        """How long the last successful build took (wall time, in its thread)."""

    def start(self) -> None:
        """Begin building, unless a build is under way or done."""
        with self._lock:
            if self._future is not None:
                return
            future: Future[Embedder] = Future()
            self._future = future
        threading.Thread(
            target=self._build, args=(future,), name="embedder-loader", daemon=True
        ).start()

    def get(self) -> Embedder:
        """The embedder, waiting for the build if need be.

        Raises:
            Whatever the factory raised (``WeightsNotFoundError``, ``ModelError``...).
        """
        self.start()
        with self._lock:
            future = self._future
        assert future is not None
        try:
            return future.result()
        except BaseException:
            with self._lock:
                if self._future is future:
                    self._future = None  # let the next start try again
            raise

    def settle(self, timeout: float | None = None) -> None:
        """Wait (up to ``timeout`` seconds) for a build under way to end, either way. A process
        must not exit while a native runtime initialises in the loader's daemon thread: ONNX
        Runtime then aborts the interpreter's exit (``terminate called without an active
        exception``)."""
        future = self._future
        if future is not None:
            wait([future], timeout)

    @property
    def ready(self) -> bool:
        """Whether the embedder is built (``get`` would not wait)."""
        future = self._future
        return future is not None and future.done() and future.exception() is None

    def _build(self, future: Future[Embedder]) -> None:
        started = time.perf_counter()
        try:
            embedder = self._factory(self._settings)
        except BaseException as exc:  # handed to whoever waits in get()
            future.set_exception(exc)
            return
        self.load_seconds = time.perf_counter() - started
        logger.info("embedder %s loaded in %.2f s", embedder.name, self.load_seconds)
        future.set_result(embedder)
