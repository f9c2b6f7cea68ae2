"""Fixtures shared by the catalogue tests: one engine per supported database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture
def engine(any_engine: Engine) -> Engine:
    return any_engine
