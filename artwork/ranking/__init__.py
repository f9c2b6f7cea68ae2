"""The ranking core: rankers score titles, row sources make candidate rows, row selectors
choose and order them into a homepage; trained offline (``artwork ranking train``) and
evaluated offline (``scripts/bench_ranking.py``). See docs/ranking.md.

Interfaces live in ``base``; ``registry`` finds rankers, row sources and row selectors by name;
``config`` holds the hyperparameters (the ranking slice of the settings).
"""
