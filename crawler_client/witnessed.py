"""Which witnesses a client trusts and what a witnessed checkpoint is (see the "Witnesses" part of
`crawler_client.core`, whose flows apply the policy)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from keys.cosignature import CosignatureVerifier, parse_cosignature_verifier_key
from keys.note import Checkpoint

#: Seconds a client waits, in all, for the witnesses to cosign a checkpoint covering a fresh one.
DEFAULT_WITNESS_WAIT = 3.0


# ------------------------------------------------------------------ witnesses


@dataclass(frozen=True)
class WitnessPolicy:
    """The witnesses a client trusts, how many of them must cosign, and how long to wait for them.

    No witnesses and `min_cosignatures` 0 is the policy of a client without witnesses: the
    registry's own signature is all a checkpoint needs.
    """

    witnesses: tuple[CosignatureVerifier, ...] = ()
    min_cosignatures: int = 0
    wait: float = DEFAULT_WITNESS_WAIT
    first_delay: float = 0.05
    max_delay: float = 1.0

    @classmethod
    def of(
        cls,
        witnesses: Sequence[str | CosignatureVerifier] | None,
        min_cosignatures: int | None = None,
        wait: float = DEFAULT_WITNESS_WAIT,
    ) -> WitnessPolicy:
        """Parse vkeys ("name+hex+base64"); k defaults to every witness (by distinct name).

        `ValueError` for a malformed key, a k outside 1 … n, a k without witnesses, a negative wait.
        """
        if isinstance(witnesses, str):
            raise TypeError("witnesses is a list of verifier keys, not one string")
        verifiers: list[CosignatureVerifier] = []
        for witness in witnesses or ():
            if isinstance(witness, CosignatureVerifier):
                verifiers.append(witness)
            elif isinstance(witness, str):
                try:
                    verifiers.append(parse_cosignature_verifier_key(witness.strip()))
                except ValueError as exc:
                    raise ValueError(f"witness key {witness!r:.80}: {exc}") from None
            else:
                raise TypeError(f"a witness is a verifier key string, not {type(witness).__name__}")
        names = len(dict.fromkeys(verifier.name for verifier in verifiers))
        if min_cosignatures is None:
            k = names
        elif isinstance(min_cosignatures, bool) or not isinstance(min_cosignatures, int):
            raise TypeError(f"min_cosignatures is an int, not {min_cosignatures!r}")
        elif not verifiers:
            raise ValueError("min_cosignatures needs the witnesses whose cosignatures count")
        elif not 1 <= min_cosignatures <= names:
            raise ValueError(
                f"min_cosignatures must be 1 to {names} (the witnesses given), not {min_cosignatures}"
            )
        else:
            k = min_cosignatures
        if isinstance(wait, bool) or not isinstance(wait, (int, float)) or wait < 0:
            raise ValueError(f"witness_wait is a number of seconds >= 0, not {wait!r}")
        return cls(tuple(verifiers), k, float(wait))

    def delays(self) -> list[float]:
        """The sleeps between fetches of the cosigned checkpoint: doubling, adding up to `wait`."""
        delays: list[float] = []
        total, delay = 0.0, self.first_delay
        while total < self.wait and delay > 0:
            step = min(delay, self.max_delay, self.wait - total)
            delays.append(step)
            total += step
            delay *= 2
        return delays


@dataclass(frozen=True)
class WitnessedCheckpoint:
    """A checkpoint of the registry's log with the cosignatures the client's policy requires.

    `note` is the signed note as served (the registry's signature and the cosignature lines),
    `cosigned_by` the trusted witnesses whose valid cosignature it carries, in the order given.
    """

    note: str
    checkpoint: Checkpoint
    cosigned_by: tuple[str, ...]

    @property
    def size(self) -> int:
        return self.checkpoint.size

    def describe(self) -> str:
        """ "cosigned by a, b" (or "signed by the registry alone"), for messages."""
        if not self.cosigned_by:
            return "signed by the registry alone"
        return f"cosigned by {', '.join(self.cosigned_by)}"
