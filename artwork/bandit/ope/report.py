"""Evaluations as a plain-text table, JSON, or a PNG chart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from artwork.bandit.ope.evaluate import PolicyEvaluation


def _names(results: Sequence[PolicyEvaluation]) -> list[str]:
    return list(results[0].estimates) if results else []


def format_table(results: Sequence[PolicyEvaluation]) -> str:
    """One row per target: each estimate with its interval, ESS, replay's kept events and the
    unsupported share; then each target's warnings. A ``!`` marks a clipped estimate."""
    names = _names(results)
    header = f"{'policy':<28}" + "".join(f"{name:>25}" for name in names)
    header += f"{'ess':>10}{'kept':>8}{'unsupp.':>9}"
    lines = [header, "-" * len(header)]
    notes = []
    for result in results:
        cells = []
        for name in names:
            e = result.estimates[name]
            mark = "!" if e.clipped else " "
            cells.append(
                f"{'n/a':>25}"
                if math.isnan(e.value)
                else f"{e.value:>8.4f}{mark}[{e.low:.4f}, {e.high:.4f}]".rjust(25)
            )
        lines.append(
            f"{result.name[:27]:<28}"
            + "".join(cells)
            + f"{result.ess:>10.1f}{result.replay_kept:>8d}{result.unsupported:>9.3f}"
        )
        notes += [f"warning: {result.name}: {note}" for note in result.warnings]
    return "\n".join(lines + notes)


def as_json(results: Sequence[PolicyEvaluation]) -> list[dict[str, Any]]:
    """The evaluations as JSON-ready dicts (NaN becomes None)."""

    def number(value: float) -> float | None:
        return None if math.isnan(value) else value

    return [
        {
            "policy": r.name,
            "events": r.events,
            "ess": r.ess,
            "replay_kept": r.replay_kept,
            "unsupported": r.unsupported,
            "warnings": list(r.warnings),
            "estimates": {
                name: {
                    "value": number(e.value),
                    "low": number(e.low),
                    "high": number(e.high),
                    "clipped": e.clipped,
                }
                for name, e in r.estimates.items()
            },
        }
        for r in results
    ]


def plot(results: Sequence[PolicyEvaluation], path: Path, *, title: str = "") -> Path:
    """Write a PNG: each target's estimates with their confidence intervals.

    Args:
        results: Evaluations to draw.
        path: Where the PNG goes (its folder is created).
        title: Figure title.

    Returns:
        ``path``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = _names(results)
    figure = Figure(figsize=(8, 1.2 + 0.7 * len(results)), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    offsets = np.linspace(-0.27, 0.27, len(names)) if len(names) > 1 else np.zeros(len(names))
    for offset, name in zip(offsets, names, strict=True):
        ys, xs, lows, highs = [], [], [], []
        for row, result in enumerate(results):
            e = result.estimates[name]
            if math.isnan(e.value):
                continue
            ys.append(row + offset)
            xs.append(e.value)
            lows.append(e.value - e.low if math.isfinite(e.low) else 0.0)
            highs.append(e.high - e.value if math.isfinite(e.high) else 0.0)
        axes.errorbar(xs, ys, xerr=[lows, highs], fmt="o", capsize=3, label=name)
    axes.set_yticks(range(len(results)), [r.name for r in results])
    axes.invert_yaxis()
    axes.set_xlabel("estimated mean reward per decision")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="best", fontsize="small")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path
