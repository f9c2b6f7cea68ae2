"""The ranking core: rankers score titles, row sources make candidate rows, row selectors
choose and order them into a homepage; trained offline (``artwork ranking train``) and
evaluated offline (``scripts/bench_ranking.py``). See docs/ranking.md.

Interfaces live in ``base``; what they are given in ``index`` (the title vocabulary and its
scores), ``data`` (the snapshot rankers are fitted on) and ``page_context`` (what one page's row
sources and selector share); ``registry`` finds rankers, row sources and row selectors by name;
``config`` holds the hyperparameters (the ranking slice of the settings).
"""
