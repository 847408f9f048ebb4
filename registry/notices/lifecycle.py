"""The takedown lifecycle: which step may follow which, and who may take it.

    filed ─deliver─▶ delivered ─acknowledge─▶ acknowledged ─action─▶ actioned ─┐
      └────────acknowledge──────────▲              ├─reject─▶ rejected ────────┤
                                                   └─counter-notice─┐          ├─close─▶ closed
                                        actioned ─counter-notice─▶ counter-noticed
                                                       counter-noticed ─restore─▶ restored ─┤
                                                       counter-noticed ─uphold──▶ upheld ───┘

* `deliver` and `remind` are the registry's own signed events (a webhook got a 2xx; a deadline
  passed). Pulling the inbox is not delivery: the operator's signed acknowledgement is its proof of
  receipt, so `acknowledge` is also allowed straight from `filed`.
* `counter-notice` is relayed by the operator (for itself or for whoever supplied the material),
  after acknowledging or after acting; `restore` is the operator's; `uphold` may come from the
  operator or from the notifier (reporting legal action, which stops a DMCA restoration clock).
* `close` ends a decided notice (either party); `remind` changes no state.

Pure: `transition` raises `WrongParty` (403) or `IllegalTransition` (409) and returns the new state.

>>> transition("acknowledged", "action", "operator")
'actioned'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, get_args

from registry.errors import RegistryError

State = Literal[
    "filed",
    "delivered",
    "acknowledged",
    "actioned",
    "rejected",
    "counter-noticed",
    "restored",
    "upheld",
    "closed",
]
STATES: Final[tuple[State, ...]] = get_args(State)
Party = Literal["notifier", "operator", "registry"]
OPEN_STATES: Final[frozenset[str]] = frozenset({"filed", "delivered", "acknowledged", "counter-noticed"})
"""States in which the operator still owes a step (and can be overdue)."""


class WrongParty(RegistryError):
    status, slug, title = 403, "wrong-party", "This party may not take this step"


class IllegalTransition(RegistryError):
    status, slug, title = 409, "illegal-transition", "This step does not follow from the notice's state"


@dataclass(frozen=True)
class Step:
    sources: frozenset[State]
    target: State | None  # None: the state does not change
    parties: frozenset[Party]


def _step(sources: set[State], target: State | None, *parties: Party) -> Step:
    return Step(frozenset(sources), target, frozenset(parties))


_DECIDED: Final[set[State]] = {"actioned", "rejected", "restored", "upheld"}

STEPS: Final[Mapping[str, Step]] = {
    "deliver": _step({"filed"}, "delivered", "registry"),
    "acknowledge": _step({"filed", "delivered"}, "acknowledged", "operator"),
    "action": _step({"acknowledged"}, "actioned", "operator"),
    "reject": _step({"acknowledged"}, "rejected", "operator"),
    "counter-notice": _step({"acknowledged", "actioned"}, "counter-noticed", "operator"),
    "restore": _step({"counter-noticed"}, "restored", "operator"),
    "uphold": _step({"counter-noticed"}, "upheld", "operator", "notifier"),
    "close": _step(_DECIDED, "closed", "operator", "notifier"),
    "remind": _step({"filed", "delivered", "acknowledged", "counter-noticed"}, None, "registry"),
}


def transition(state: str, action: str, party: Party | None) -> State:
    """The state after `party` takes `action` in `state`; the party is checked before the state, so
    a stranger learns nothing about where a notice stands from a 409."""
    step = STEPS.get(action)
    if step is None:
        raise IllegalTransition(f"unknown step {action!r}", [("/action", "unknown step")])
    if party is None or party not in step.parties:
        allowed = " or ".join(sorted(step.parties))
        who = "a stranger to this notice" if party is None else f"the {party}"
        raise WrongParty(f"{action} is taken by the {allowed}, not by {who}", [("/by", "not allowed")])
    if state not in step.sources:
        allowed_from = ", ".join(sorted(step.sources))
        raise IllegalTransition(
            f"cannot {action} a notice that is {state} (only from: {allowed_from})", [("/action", state)]
        )
    if step.target is not None:
        return step.target
    return next(known for known in STATES if known == state)
