"""The bandit's slice of the settings carries every value the VW policies read."""

from __future__ import annotations

from dataclasses import asdict

from artwork.bandit.config import PolicySettings
from artwork.bandit.vw_policy import VW_POLICIES
from artwork.config import Settings

# Every value differs from the others, so each field can be found by its value.
SETTINGS = Settings(
    bandit_learning_rate=0.7,
    bandit_clip_p=0.01,
    epsilon=0.3,
    softmax_lambda=4.0,
    squarecb_gamma_scale=20.0,
    squarecb_gamma_exponent=0.25,
    bag_size=7,
    cover_size=3,
    cover_psi=0.5,
    bandit_bits=22,
)


def test_the_slice_takes_each_value_from_its_setting() -> None:
    assert PolicySettings.from_settings(SETTINGS) == PolicySettings(
        learning_rate=0.7,
        clip_p=0.01,
        epsilon=0.3,
        softmax_lambda=4.0,
        squarecb_gamma_scale=20.0,
        squarecb_gamma_exponent=0.25,
        bag_size=7,
        cover_size=3,
        cover_psi=0.5,
        bits=22,
    )


def test_every_field_but_the_hash_bits_is_read_by_some_policy() -> None:
    values = PolicySettings.from_settings(SETTINGS)
    read = {p.read(values) for cls in VW_POLICIES for p in cls.all_params()}
    assert read == {v for k, v in asdict(values).items() if k != "bits"}
