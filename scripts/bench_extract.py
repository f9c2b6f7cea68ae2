#!/usr/bin/env python3
"""Benchmark the extractor: ``scripts/bench_extract.py [--minutes N] [--grain [SIGMA]]
[--batch N] [--json] [--video FILE] [--no-process] [--no-first-ingest] [--no-reference]``.

A thin wrapper over :func:`artwork.bench.extract.main`; see that module for what is
measured (the headline ``realtime_factor`` is the whole ``artwork ingest`` process). Run it
inside the environment: ``V=$(scripts/bootstrap); $V/bin/python scripts/bench_extract.py
--json``.
"""

from __future__ import annotations

import sys

from artwork.bench.extract import main

if __name__ == "__main__":
    sys.exit(main())
