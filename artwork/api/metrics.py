"""Prometheus metrics of the service, in one registry, and small functions that record them.

``GET /metrics`` serves :data:`REGISTRY` in the Prometheus text format. It is open (no key):
put it on an internal network, or block ``/metrics`` at the edge.

The HTTP middleware records requests; the functions below are what other parts call
(decisions and rewards from the serving path, learner events, queue depths, upload jobs), so
none of them needs to know about Prometheus.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: The service's own registry (not the process-global one), so tests can build many apps.
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "artwork_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "artwork_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
DECISIONS = Counter(
    "artwork_decisions", "Artwork decisions made, by policy.", ["policy"], registry=REGISTRY
)
REWARDS = Counter(
    "artwork_rewards",
    "Rewards received, by outcome (recorded, duplicate, late, unknown).",
    ["outcome"],
    registry=REGISTRY,
)
REWARD_JOIN_LAG = Histogram(
    "artwork_reward_join_lag_seconds",
    "Seconds from a decision to its reward.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
    registry=REGISTRY,
)
LEARNER_EVENTS = Counter(
    "artwork_learner_events",
    "Learner events: learned examples, snapshots, restarts, errors.",
    ["event"],
    registry=REGISTRY,
)
MODEL_VERSION = Gauge(
    "artwork_model_version", "Version of the bandit model this process serves.", registry=REGISTRY
)
LEARNING = Gauge(
    "artwork_learner_running",
    "1 while this process runs the database's learner, else 0.",
    registry=REGISTRY,
)
LEARNER_RESTARTS = Gauge(
    "artwork_learner_restarts",
    "Learners this process rebuilt after an unexpected error.",
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "artwork_queue_depth", "Items waiting in an internal queue.", ["queue"], registry=REGISTRY
)
JOBS = Counter(
    "artwork_upload_jobs", "Upload (extraction) jobs by final state.", ["state"], registry=REGISTRY
)
JOBS_RUNNING = Gauge(
    "artwork_upload_jobs_running", "Extraction jobs running now.", registry=REGISTRY
)


#: The counter and histogram of each (route, method, status) met: ``labels()`` looks its
#: child up under a lock for every call, a few percent of a reward request's CPU. Routes are
#: templates and statuses few, so this stays small.
_REQUEST_SERIES: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def record_request(route: str, method: str, status: int, seconds: float) -> None:
    series = _REQUEST_SERIES.get((route, method, status))
    if series is None:
        series = (REQUESTS.labels(route, method, str(status)), LATENCY.labels(route, method))
        _REQUEST_SERIES[(route, method, status)] = series
    series[0].inc()
    series[1].observe(seconds)


def record_decisions(policy: str, count: int = 1) -> None:
    """``count`` decisions made by ``policy`` (e.g. ``epsilon_greedy``)."""
    DECISIONS.labels(policy).inc(count)


def record_reward(outcome: str, join_lag_s: float | None = None) -> None:
    """A reward: ``recorded``, ``duplicate``, ``late`` or ``unknown``; its lag when joined."""
    counter = _REWARD_SERIES.get(outcome)
    if counter is None:
        counter = _REWARD_SERIES[outcome] = REWARDS.labels(outcome)
    counter.inc()
    if join_lag_s is not None:
        REWARD_JOIN_LAG.observe(max(0.0, join_lag_s))


_REWARD_SERIES: dict[str, Counter] = {}


def record_learner_event(event: str, count: int = 1) -> None:
    """``learned`` (examples), ``snapshot``, ``restart``, ``error``, ``elected``."""
    LEARNER_EVENTS.labels(event).inc(count)


def set_model_version(version: int | Callable[[], float]) -> None:
    """The serving model's version, or a function the scrape calls to read it."""
    if callable(version):
        MODEL_VERSION.set_function(version)
    else:
        MODEL_VERSION.set(version)


def watch_learner(learning: Callable[[], float], restarts: Callable[[], float]) -> None:
    """Functions the scrape calls: whether this process learns now, and its learner restarts."""
    LEARNING.set_function(learning)
    LEARNER_RESTARTS.set_function(restarts)


def set_queue_depth(queue: str, depth: int | Callable[[], float]) -> None:
    """Items waiting in ``queue`` (e.g. ``decision_log``, ``upload_jobs``), or a function."""
    gauge = QUEUE_DEPTH.labels(queue)
    if callable(depth):
        gauge.set_function(depth)
    else:
        gauge.set(depth)


def record_job(state: str) -> None:
    """An upload job ended in ``state`` (``succeeded``, ``failed``)."""
    JOBS.labels(state).inc()
