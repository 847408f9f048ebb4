"""The regimes a takedown notice invokes and the actions it requests: plain names, importing
nothing, so that the command line offers them as choices without loading the pydantic models of
`registry.notices.documents` (which re-exports them)."""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = ["REGIMES", "REQUESTED_ACTIONS", "Regime", "RequestedAction"]

Regime = Literal["dmca", "dsa", "jp-platform", "no-fakes"]
REGIMES: Final[tuple[Regime, ...]] = get_args(Regime)

RequestedAction = Literal["remove", "disable", "stop-training-use", "stop-generation", "retrain", "stay-down"]
REQUESTED_ACTIONS: Final[tuple[RequestedAction, ...]] = get_args(RequestedAction)
