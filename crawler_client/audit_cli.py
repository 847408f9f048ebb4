"""`kotowari log audit`: a full independent audit of a registry from its public endpoints.

Exit status 0 when nothing was found (one line: `audited N entries, M claims, K answers:
consistent`); 1 naming every discrepancy, one line each (the first 50, then a count); 2 when the
audit could not be done (see `crawler_client.audit`). Progress goes to standard error, and only
when it is a terminal.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any, TextIO

from crawler_client.audit.report import DEFAULT_SAMPLE, MAX_SHOWN, AuditError
from crawler_client.cli_support import Negative, UsageError, print_json, registry_flag
from crawler_client.i18n import N_, _, said

__all__ = ["TerminalProgress", "cmd_log_audit", "register_log_audit"]

_STAGES = {
    "mirror": N_("bundles"),
    "tiles": N_("hash tiles"),
    "claims": N_("claims"),
    "checks": N_("check requests"),
}


class TerminalProgress:
    """One rewritten status line on a terminal, at most ten updates a second."""

    def __init__(self, stream: TextIO, clock: Any = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self._shown = float("-inf")
        self._width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if done < total and now - self._shown < 0.1:
            return
        self._shown = now
        unit = _STAGES.get(stage)
        line = f"{stage}: {done}/{total} {_(unit) if unit else ''}"
        self.stream.write("\r" + line.ljust(self._width))
        self._width = len(line)
        self.stream.flush()

    def clear(self) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def cmd_log_audit(args: argparse.Namespace) -> int:
    if args.sample is not None and args.sample < 0:
        raise UsageError(_("--sample is a number of claims (0 compares none)"))
    from crawler_client.audit.auditor import Auditor  # httpx, pydantic, numpy: only for an audit

    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        with Auditor(
            args.registry,
            args.state,
            sample=DEFAULT_SAMPLE if args.sample is None else args.sample,
            full=args.full,
            rng=random.Random(args.seed) if args.seed is not None else None,
            progress=progress,
            witnesses=args.witness or (),
            min_cosignatures=args.min_cosignatures,
        ) as auditor:
            report = auditor.run()
    except AuditError as exc:
        raise UsageError(str(exc)) from None
    except ValueError as exc:  # a registry URL that is not http(s), a witness key that is not one
        raise UsageError(str(exc)) from None
    finally:
        if progress is not None:
            progress.clear()
    if args.json:
        print_json(report.to_json())
    elif report.consistent:
        print(_summary(report))
    else:
        print("\n".join(_lines(report)))
    if not report.consistent:
        raise Negative
    return 0


def _summary(report: Any) -> str:
    """`AuditReport.summary()`, in the locale's language."""
    if report.claims_compared != report.claims:
        claims = _("{claims} claims ({compared} compared)").format(
            claims=report.claims, compared=report.claims_compared
        )
    else:
        claims = _("{claims} claims").format(claims=report.claims)
    if report.records_compared:
        claims += _(", {records} operator records").format(records=report.records_compared)
    done = _("audited {entries} entries, {claims}, {answers} answers: consistent")
    line = done.format(entries=report.entries, claims=claims, answers=report.items_checked)
    if report.live_only:  # a static copy: say which stages it cannot answer, rather than skip them silently
        line += _(
            " (a static copy: claim lookups, signed check answers and operator records need the live "
            "registry, not audited)"
        )
    return line


def _lines(report: Any, limit: int = MAX_SHOWN) -> list[str]:
    """`AuditReport.lines()`, in the locale's language (each discrepancy's message through `said`)."""
    shown = [
        _("DISCREPANCY {kind}: {message}").format(kind=d.kind, message=said(d.message))
        for d in report.discrepancies[:limit]
    ]
    hidden = len(report.discrepancies) - len(shown)
    if hidden > 0:
        shown.append(_("… and {count} more discrepancies").format(count=hidden))
    where = _(" at size {size}").format(size=report.tree_size) if report.tree_size else ""
    stopped = "" if report.complete else _(" (audit stopped early)")
    closing = _("INCONSISTENT: {count} discrepancies in {log}{where}{stopped}")
    shown.append(
        closing.format(
            count=len(report.discrepancies),
            log=report.origin or report.registry,
            where=where,
            stopped=stopped,
        )
    )
    return shown


def register_log_audit(log: Any) -> None:
    """Add `audit` to the `kotowari log` sub-commands."""
    audit = log.add_parser(
        "audit",
        help=_("mirror the log, re-verify every entry, replay it and compare what the registry serves"),
        description=_(
            "Mirror the registry's log into DIR (only what is new since the last audit), check it "
            "against the signed checkpoint and hash tiles, verify every document's signature, replay "
            "the state by the registry's own rules and compare claim lookups and signed check answers "
            "with the replay. Exit 0: consistent; 1: discrepancies, one line each; 2: the audit could "
            "not be done."
        ),
    )
    registry_flag(audit)
    audit.add_argument(
        "--state",
        required=True,
        metavar="DIR",
        help=_("the mirror and the last audited checkpoint (created)"),
    )
    audit.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help=_("compare N claims, a random sample when there are more (default {count:,}; 0: none)").format(
            count=DEFAULT_SAMPLE
        ),
    )
    audit.add_argument("--seed", type=int, metavar="N", help=_("seed the sample, to repeat an audit exactly"))
    audit.add_argument(
        "--full", action="store_true", help=_("re-verify every signature, not only those of new entries")
    )
    audit.add_argument(
        "--witness",
        action="append",
        metavar="KEY",
        help=_("a witness's cosignature verifier key (repeatable): the checkpoint must be cosigned"),
    )
    audit.add_argument(
        "--min-cosignatures",
        type=int,
        metavar="K",
        help=_("how many of the --witness keys must have cosigned (default: all of them)"),
    )
    audit.add_argument("--json", action="store_true", help=_("print the whole report as JSON"))
    audit.set_defaults(run=cmd_log_audit)
