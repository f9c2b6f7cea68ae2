#!/usr/bin/env python3
"""Benchmark the artwork bandit: random < best single image < contextual bandit, by replay and
online on the default simulator, plus decision latency and learner throughput.

Usage: ``scripts/bench_bandit.py [--json] [--decisions 50000] [--seed 0] [--plot FILE.png]``.
The logic lives in :mod:`artwork.bench.bandit`.
"""

from __future__ import annotations

from artwork.bench.bandit import main

if __name__ == "__main__":
    raise SystemExit(main())
