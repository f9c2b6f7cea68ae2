#!/usr/bin/env python3
"""Benchmark the ranking core (thin wrapper over ``artwork.bench.ranking``).

scripts/bench_ranking.py [--json] [--csv FILE] [--users N] [--titles N] [--interactions N]
"""

from __future__ import annotations

from artwork.bench.ranking import main

if __name__ == "__main__":
    raise SystemExit(main())
