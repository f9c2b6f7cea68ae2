"""Benchmarks behind ``scripts/bench_*.py``: each measures a stage against a reference.

Product code never imports this package (``tests/test_structure.py`` checks it).
"""
