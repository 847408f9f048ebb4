"""Fixtures the CLI test modules share: one real `kotowari serve` per test module (a conftest, so that
no module imports a fixture by name)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess, start_server, stop_server


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    running = start_server(tmp_path_factory.mktemp("registry"))
    try:
        yield running
    finally:
        stop_server(running)
