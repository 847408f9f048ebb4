"""`--witness KEY [--witness KEY …] [--min-cosignatures K]`: the witnesses a command requires.

Shared by every command that takes checkpoints from the registry (`verify`, `log verify`,
`snapshot pull`, …): each `--witness` is a C2SP cosignature verifier key
("name+hex key ID+base64(0x04 || key)", as `kotowari witness key` prints it), and every checkpoint
the command relies on must carry valid cosignatures from K of them (default: all). A malformed key
or an impossible K is a usage error (one line, exit status 2).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crawler_client.cli_support import UsageError
from crawler_client.i18n import _

if TYPE_CHECKING:
    from keys.cosignature import CosignatureVerifier

__all__ = ["add_witness_flags", "witness_options"]


def add_witness_flags(parser: argparse.ArgumentParser) -> None:
    """Add `--witness` (repeatable) and `--min-cosignatures` to `parser`."""
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="KEY",
        help=_(
            "a witness's cosignature verifier key (`kotowari witness key` prints it); repeatable: "
            "every checkpoint relied on must be cosigned by these witnesses"
        ),
    )
    parser.add_argument(
        "--min-cosignatures",
        type=int,
        metavar="K",
        help=_("how many of the --witness keys must cosign (default: all of them)"),
    )


def witness_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `Client` keyword arguments the flags ask for (`{}` without `--witness`)."""
    keys: list[str] = list(getattr(args, "witness", None) or [])
    minimum: int | None = getattr(args, "min_cosignatures", None)
    if not keys:
        if minimum is not None:
            raise UsageError(_("--min-cosignatures needs the --witness keys whose cosignatures count"))
        return {}
    from crawler_client.witnessed import WitnessPolicy  # cryptography only once witnesses are named
    from keys.cosignature import parse_cosignature_verifier_key

    verifiers: list[CosignatureVerifier] = []
    for text in keys:
        try:
            verifiers.append(parse_cosignature_verifier_key(text.strip()))
        except ValueError as exc:
            raise UsageError(_("--witness {key!r:.80}: {detail}").format(key=text, detail=exc)) from None
    try:
        policy = WitnessPolicy.of(verifiers, minimum)
    except ValueError as exc:
        raise UsageError(
            _("--min-cosignatures {count}: {detail}").format(count=minimum, detail=exc)
        ) from None
    return {"witnesses": list(policy.witnesses), "min_cosignatures": policy.min_cosignatures}
