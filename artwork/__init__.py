"""artwork: personalised artwork selection and a homepage around it.

Subpackages follow the data flow: ``video`` (decoding, sampling) -> ``scoring`` (per-frame quality
and content) -> ``candidates`` (selection, variant images) -> ``catalog`` (titles, variants,
interactions, media) -> ``ranking`` (rows, page) -> ``bandit`` (artwork choice per member) ->
``api`` / ``cli`` (the ways in).
"""

__version__ = "0.1.0"
