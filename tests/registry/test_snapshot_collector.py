"""`collector_paused`: snapshot building and reading pause Python's cyclic collector and always
give it back as they found it (after an error too, and when calls nest)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from registry.snapshot_data import collector_paused


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


@collector_paused
def state_inside() -> bool:
    return gc.isenabled()


@collector_paused
def nested() -> tuple[bool, bool]:
    inner = state_inside()
    return inner, gc.isenabled()


@collector_paused
def failing() -> None:
    raise ValueError("inside")


def test_paused_inside_and_enabled_again_after() -> None:
    gc.enable()
    assert state_inside() is False
    assert gc.isenabled()


def test_nested_calls_resume_only_at_the_outermost() -> None:
    gc.enable()
    assert nested() == (False, False)
    assert gc.isenabled()


def test_an_error_inside_gives_the_collector_back() -> None:
    gc.enable()
    with pytest.raises(ValueError, match="inside"):
        failing()
    assert gc.isenabled()


def test_a_program_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    assert state_inside() is False
    assert not gc.isenabled()
