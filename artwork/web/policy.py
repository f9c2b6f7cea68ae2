"""The policy page (``GET /policy``): is the bandit learning?

Four server-rendered SVG charts of the newest decisions in the log: the take fraction over time
per policy and model version, the share of decisions that explored, the lag between a decision
and its reward, and the off-policy evaluation of the live log with the same target policies and
numbers as ``artwork evaluate``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from artwork.api.deps import ServicesDep
from artwork.bandit.ope.registry import ESTIMATORS
from artwork.web.charts import Point, histogram, interval_chart, line_chart
from artwork.web.queries import off_policy, recent_events, summarize
from artwork.web.rendering import render
from artwork.web.security import require

router = APIRouter(include_in_schema=False)
_viewer = Depends(require("admin", "editor"))


@router.get("/policy", response_class=HTMLResponse, dependencies=[_viewer])
def policy_page(request: Request, services: ServicesDep) -> HTMLResponse:
    bandit = services.bandit
    log = bandit.log
    now = log.now()
    summary = summarize(recent_events(log), services.settings, now)
    curve_series = {
        name: [Point(p.start.timestamp(), p.rate.value, p.rate.low, p.rate.high) for p in points]
        for name, points in summary.curves.items()
    }
    starts = sorted({p.x for points in curve_series.values() for p in points})
    learning = line_chart(
        curve_series,
        title="Take fraction over time (UTC), per policy and model version (95% intervals)",
        x_labels=_time_labels(starts),
        y_label="take fraction",
    )
    exploration_points = [Point(t.timestamp(), v, v, v) for t, v in summary.exploration]
    exploration = line_chart(
        {"explored": exploration_points},
        title="Share of decisions that showed a variant other than the most likely one",
        x_labels=_time_labels([p.x for p in exploration_points]),
        y_label="exploration rate",
    )
    lag = histogram(
        summary.lags_s,
        title="Seconds from a decision to its reward (the reward join lag)",
        x_label="seconds from decision to reward",
        marker=summary.reward_wait_s if summary.lags_s else None,
        marker_label=f"wait window {summary.reward_wait_s:g} s",
    )
    rows, events, pending, reason = off_policy(log, services.settings, now)
    ope_points = []
    colours = []
    for row in rows:
        estimates = row["estimates"]
        assert isinstance(estimates, dict)
        for colour, name in enumerate(ESTIMATORS):
            e = estimates[name]
            if e["value"] is not None:
                colours.append(colour)
                ope_points.append(
                    (
                        f"{row['policy']} · {name}",
                        Point(0.0, e["value"], _num(e["low"]), _num(e["high"])),
                    )
                )
    ope = interval_chart(
        ope_points,
        title="Off-policy estimates of mean reward per decision (95% intervals)",
        x_label="estimated mean reward per decision",
        colours=colours,
    )
    lags = sorted(summary.lags_s)
    return render(
        request,
        "policy.html",
        {
            "summary": summary,
            "learning": learning,
            "exploration": exploration,
            "lag": lag,
            "ope": ope,
            "ope_rows": rows,
            "ope_events": events,
            "ope_pending": pending,
            "ope_reason": reason,
            "estimators": ESTIMATORS,
            "median_lag": lags[len(lags) // 2] if lags else None,
            "p95_lag": lags[min(len(lags) - 1, int(0.95 * len(lags)))] if lags else None,
            "settings": services.settings,
            "model_version": bandit.model_version,
            "policy_name": bandit.policy.config().get("name", ""),
        },
    )


def _num(value: object) -> float:
    return float(value) if isinstance(value, int | float) else math.nan


def _time_labels(xs: list[float], most: int = 4) -> dict[float, str]:
    if not xs:
        return {}
    step = max(1, math.ceil(len(xs) / most))
    chosen = xs[::step]
    return {x: datetime.fromtimestamp(x, UTC).strftime("%m-%d %H:%M") for x in chosen}
