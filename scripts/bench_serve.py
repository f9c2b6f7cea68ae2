#!/usr/bin/env python3
"""Benchmark the whole server with wrk (thin wrapper over ``artwork.bench.serve``).

scripts/bench_serve.py [--json] [--quick] [--only sqlite|postgres] [--titles N]
    [--members N] [--seconds S] [--workers N] [--reset-postgres]

SQLite always; PostgreSQL too when ARTWORK_DATABASE_URL names one that answers (an empty
database, or pass --reset-postgres to drop artwork's tables in it first).
"""

from __future__ import annotations

from artwork.bench.serve import main

if __name__ == "__main__":
    raise SystemExit(main())
