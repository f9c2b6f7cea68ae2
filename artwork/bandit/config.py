"""The bandit's slice of the settings: what a VW policy is built with.

``PolicySettings`` has no defaults of its own: it is built from :class:`~artwork.config.Settings`
by :meth:`PolicySettings.from_settings`, so each default is written once, in
:mod:`artwork.config` (``ARTWORK_EPSILON``, ``ARTWORK_BANDIT_LEARNING_RATE``, ...). The policies
read it by attribute, so a renamed or mistyped setting is a type error, not a runtime lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

from artwork.config import Settings


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """Learning, exploration and hashing parameters of the VW policies.

    Attributes:
        learning_rate: VW ``--learning_rate`` (``ARTWORK_BANDIT_LEARNING_RATE``).
        clip_p: VW ``--clip_p``, 0 for none (``ARTWORK_BANDIT_CLIP_P``).
        epsilon: uniform share of epsilon-greedy, bag and cover (``ARTWORK_EPSILON``).
        softmax_lambda: softmax inverse temperature (``ARTWORK_SOFTMAX_LAMBDA``).
        squarecb_gamma_scale: SquareCB's gamma scale (``ARTWORK_SQUARECB_GAMMA_SCALE``).
        squarecb_gamma_exponent: SquareCB's gamma exponent (``ARTWORK_SQUARECB_GAMMA_EXPONENT``).
        bag_size: bootstrapped models of bag (``ARTWORK_BAG_SIZE``).
        cover_size: cover policies of cover (``ARTWORK_COVER_SIZE``).
        cover_psi: cover's disagreement weight (``ARTWORK_COVER_PSI``).
        bits: feature hash bits, VW ``-b`` (``ARTWORK_BANDIT_BITS``).
    """

    learning_rate: float
    clip_p: float
    epsilon: float
    softmax_lambda: float
    squarecb_gamma_scale: float
    squarecb_gamma_exponent: float
    bag_size: int
    cover_size: int
    cover_psi: float
    bits: int

    @classmethod
    def from_settings(cls, settings: Settings) -> PolicySettings:
        """The VW policies' part of ``settings``."""
        return cls(
            learning_rate=settings.bandit_learning_rate,
            clip_p=settings.bandit_clip_p,
            epsilon=settings.epsilon,
            softmax_lambda=settings.softmax_lambda,
            squarecb_gamma_scale=settings.squarecb_gamma_scale,
            squarecb_gamma_exponent=settings.squarecb_gamma_exponent,
            bag_size=settings.bag_size,
            cover_size=settings.cover_size,
            cover_psi=settings.cover_psi,
            bits=settings.bandit_bits,
        )
