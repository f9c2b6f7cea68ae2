"""The ranking core: rankers score titles, row sources make candidate rows, row selectors
choose and order them into a homepage; trained offline (``artwork ranking train``) and
evaluated offline (``scripts/bench_ranking.py``). See docs/ranking.md.

Interfaces live in ``base``; registries keyed by name: ``rankers.RANKERS``,
``rows.ROW_SOURCES``, ``selectors.ROW_SELECTORS``.
"""
