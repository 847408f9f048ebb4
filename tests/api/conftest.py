"""Fixtures the API test modules share (a conftest, so that no module imports a fixture by name)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.test_notices_api import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1, recording what it is sent."""
    running = Receiver()
    yield running
    running.close()
