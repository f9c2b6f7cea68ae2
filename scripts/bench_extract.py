#!/usr/bin/env python3
"""Benchmark the extractor: ``scripts/bench_extract.py [--minutes N] [--json] [--video FILE]``.

A thin wrapper over :func:`artwork.candidates.benchmark.main`; see that module for what is
measured. Run it inside the environment: ``V=$(scripts/bootstrap); $V/bin/python
scripts/bench_extract.py --json``.
"""

from __future__ import annotations

import sys

from artwork.candidates.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
