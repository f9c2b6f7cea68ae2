"""Off-policy evaluation: what a target policy would have earned, estimated from the log.

| module | what it holds |
|---|---|
| ``base.py`` | ``OffPolicyEstimator`` (value + interval), ``ScoredEvents``, ``Estimate`` |
| ``replay.py``, ``ips.py``, ``dr.py`` | the estimators, one family per module |
| ``registry.py`` | the estimators by name, in report order |
| ``reward_model.py`` | DR's cross-fitted, clipped reward model |
| ``specs.py`` | target policies and their spec strings (``softmax:lambda=5``) |
| ``evaluate.py`` | the loop: resolved events, targets, estimators, ESS and warnings |
| ``report.py`` | table, JSON and chart |

Imports only go downwards in that table (``specs`` stands beside the estimators).
"""
