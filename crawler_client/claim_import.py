"""`kotowari claim import FILE`: one signed claim per row of a CSV or JSON-lines file, filed in bulk.

Every row is built and checked first (`crawler_client.claim_build`, as `claim new` would check the
same flags); a row that fails is reported with its line number and the others go ahead. Rows are
then signed a batch at a time, just before they are sent (so `created` is always fresh), and filed
with `Client.file_claims`, which keeps each request within the registry's limits.

Resumable and idempotent through the receipts file (`--receipts`, by default `FILE.receipts.jsonl`):
one JSON line per filed row, with its line number, the digest of what the row says (the unsigned
claim without its `created` and `nonce`), the registry's DID and the verified receipt. A re-run
skips every row whose digest is there, so nothing is filed twice; a row that was edited has another
digest and is filed, and the summary lists the claims filed from rows no longer in the file (still
in force until withdrawn). Before each batch is sent, its signed claims are written to
`RECEIPTS.pending`; if a run dies with batches in flight, the next run asks the registry for those
claims by id and records the ones that went in, so a crash cannot file a row twice either.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from crawler_client.cli_messages import refusal_line
from crawler_client.cli_support import UsageError, print_json, read_key
from crawler_client.i18n import N_, _
from crawler_client.receipts_file import ReceiptsFile

if TYPE_CHECKING:
    import keys
    from crawler_client.client import Client

__all__ = ["ProgressBar", "cmd_claim_import", "register"]

CLAIMS = N_("claims")
"""The progress bar's unit (a msgid)."""
DEFAULT_BATCH = 500
IN_FLIGHT = 2
"""Batches with the registry at once: one being filed while the next is signed and sent."""


@dataclass
class Prepared:
    """A row that became an unsigned claim; `digest` names what it says (see the module docstring)."""

    line: int
    ref: str | None
    digest: str
    claim: dict[str, Any]


def row_digest(claim: dict[str, Any]) -> str:
    import keys

    content = {name: value for name, value in claim.items() if name not in ("created", "nonce")}
    return hashlib.sha256(keys.canonicalize(content)).hexdigest()


class ProgressBar:
    """`[######----] 120/500 claims, 85/s, 4 s left` on one rewritten line, at most ten times a second.
    `unit` is a msgid (`N_("claims")`), translated when shown."""

    def __init__(self, total: int, stream: TextIO, unit: str = CLAIMS, clock: Any = time.monotonic) -> None:
        self.total, self.stream, self.unit, self.clock = total, stream, unit, clock
        self.started = clock()
        self._shown = float("-inf")
        self._width = 0

    def __call__(self, done: int) -> None:
        now = self.clock()
        if done < self.total and now - self._shown < 0.1:
            return
        self._shown = now
        filled = 24 * done // max(self.total, 1)
        line = f"[{'#' * filled}{'-' * (24 - filled)}] {done}/{self.total} {_(self.unit)}"
        elapsed = now - self.started
        if done and elapsed > 0:
            rate = done / elapsed
            line += _(", {rate:.0f}/s, {left:.0f} s left").format(rate=rate, left=(self.total - done) / rate)
        self.stream.write("\r" + line.ljust(self._width))
        self._width = len(line)
        self.stream.flush()

    def close(self) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def progress_for(total: int, unit: str = CLAIMS, stream: TextIO | None = None) -> ProgressBar | None:
    """A progress bar on standard error when it is a terminal (never in a pipe or a log file)."""
    stream = stream or sys.stderr
    return ProgressBar(total, stream, unit) if total and stream.isatty() else None


def _column(name: str) -> str:
    return name


def _defaults(args: argparse.Namespace) -> dict[str, str]:
    from crawler_client.claim_rows import COLUMNS, ITEMS, column_name

    defaults: dict[str, str] = {}
    for spec in args.default or []:
        name, sep, value = spec.partition("=")
        column = column_name(name)
        if not sep or column not in COLUMNS or column in (*ITEMS, "ref"):
            message = _("--default {spec!r}: expected COLUMN=VALUE for a column that is not an item")
            raise UsageError(message.format(spec=spec))
        if column in defaults:
            raise UsageError(_("--default {column} is given twice").format(column=column))
        defaults[column] = value
    for name in ("kind", "deny", "allow"):
        value = getattr(args, name)
        if value is not None:
            if name in defaults:
                raise UsageError(
                    _("--{name} and --default {name}=… say the same thing: give one").format(name=name)
                )
            defaults[name] = value
    return defaults


def prepare(
    args: argparse.Namespace, did: str, now: Any
) -> tuple[list[Prepared], list[tuple[int, str]], dict[int, int]]:
    """(rows that are claims, (line, reason) of rows that are not, {line: line of the same claim
    earlier in the file})."""
    from crawler_client.claim_build import build_claim
    from crawler_client.claim_rows import Row, read_rows
    from registry.vocabulary import SUBJECT_KINDS

    path = Path(args.file)
    defaults = _defaults(args)
    rows = list(read_rows(path, encoding=args.encoding, format=args.format))
    if not rows:
        raise UsageError(_("{path}: no rows to import").format(path=path))
    prepared: list[Prepared] = []
    failed: list[tuple[int, str]] = []
    duplicates: dict[int, int] = {}
    first: dict[str, int] = {}
    for row in rows:
        if not isinstance(row, Row):
            failed.append((row.line, row.reason))
            continue
        values = row.namespace(defaults, path.parent)
        if not values.kind:
            failed.append((row.line, _("kind is missing (a kind column, or --kind for every row)")))
            continue
        if values.kind not in SUBJECT_KINDS:
            message = _("kind {kind!r} is not one of {kinds}")
            failed.append((row.line, message.format(kind=values.kind, kinds=", ".join(SUBJECT_KINDS))))
            continue
        try:
            claim = build_claim(values, did, now=now, label=_column)
        except UsageError as exc:
            failed.append((row.line, str(exc)))
            continue
        digest = row_digest(claim)
        if digest in first:
            duplicates[row.line] = first[digest]
            continue
        first[digest] = row.line
        prepared.append(Prepared(row.line, row.ref, digest, claim))
    return prepared, failed, duplicates


def refusal(result: dict[str, Any]) -> str:
    """One line for a problem the registry answered for one document."""
    slug = str(result.get("type", "")).rsplit("/", 1)[-1]
    where = ""
    errors = result.get("errors") or []
    if errors and isinstance(errors[0], dict) and errors[0].get("pointer"):
        where = _(" (at {pointer})").format(pointer=errors[0]["pointer"])
    return refusal_line(result.get("status"), slug, slug, str(result.get("detail", "")), where)


def _batches(rows: Sequence[Prepared], size: int) -> Iterator[Sequence[Prepared]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def cmd_claim_import(args: argparse.Namespace) -> int:
    from crawler_client.cli import PUBLIC_CLAIM, _now

    if args.batch is not None and args.batch < 1:
        raise UsageError(_("--batch is a number of rows per request (at least 1)"))
    if not args.dry_run and not args.registry:
        raise UsageError(_("say where to file: --registry URL (or $KOTOWARI_REGISTRY), or --dry-run"))
    key = read_key(args.key)
    prepared, failed, duplicates = prepare(args, key.did, _now())
    receipts_path = Path(args.receipts) if args.receipts else Path(args.file + ".receipts.jsonl")
    if args.dry_run:
        return _report(args, {"checked": len(prepared)}, failed, duplicates, [], receipts_path, None)
    from crawler_client.client import Client

    print(_(PUBLIC_CLAIM), file=sys.stderr)
    counts = {"filed": 0, "already_filed": 0}
    stopped: str | None = None
    with Client(args.registry) as client, ReceiptsFile.open(receipts_path) as receipts:
        info = client.info()
        receipts.bind(str(info["did"]))
        counts["recovered"] = receipts.recover(client)
        todo = [row for row in prepared if row.digest not in receipts.filed]
        counts["already_filed"] = len(prepared) - len(todo)
        current = {row.digest for row in prepared}
        stale = [
            (line, claim_id) for digest, (line, claim_id) in receipts.filed.items() if digest not in current
        ]
        size = args.batch or min(
            DEFAULT_BATCH, int(info.get("limits", {}).get("max_bulk_documents", DEFAULT_BATCH))
        )
        progress = progress_for(len(todo))
        try:
            counts["filed"], stopped = _file(client, key, receipts, todo, size, failed, progress)
        finally:
            if progress is not None:
                progress.close()
    return _report(args, counts, failed, duplicates, stale, receipts_path, stopped)


def _file(
    client: Client,
    key: keys.SigningKey,
    receipts: ReceiptsFile,
    todo: Sequence[Prepared],
    size: int,
    failed: list[tuple[int, str]],
    progress: ProgressBar | None,
) -> tuple[int, str | None]:
    """File `todo` in batches of `size`: (how many went in, why filing stopped early or None).

    While one batch is with the registry the next is signed and sent, so the registry's work and
    ours (signing, verifying receipts) overlap; at most `IN_FLIGHT` are in flight, each held in
    `.pending` first. Receipts are written in file order."""
    import keys
    from crawler_client.cli import _now
    from crawler_client.errors import KotowariError
    from registry.documents import format_timestamp, new_nonce

    filed, done, stopped = 0, 0, None
    flying: deque[tuple[int, Sequence[Prepared], list[dict[str, Any]], Future[list[dict[str, Any]]]]] = (
        deque()
    )

    def settle() -> None:
        nonlocal filed, done, stopped
        number, batch, signed, sent = flying.popleft()
        try:
            results = sent.result()
        except KotowariError as exc:
            stopped = stopped or str(exc)
            return  # left in `.pending`: the next run asks the registry which went in
        lines = []
        for row, document, result in zip(batch, signed, results, strict=True):
            if result.get("status") == 201:
                lines.append(receipts.line(row.line, row.ref, row.digest, document, result))
            else:
                failed.append((row.line, refusal(result)))
        receipts.append(lines, number)
        filed, done = filed + len(lines), done + len(batch)
        if progress is not None:
            progress(done)

    with ThreadPoolExecutor(max_workers=IN_FLIGHT, thread_name_prefix="kotowari-import") as pool:
        for number, batch in enumerate(_batches(todo, size)):
            if stopped:
                break
            now = _now()
            stamp = {"created": format_timestamp(now)}
            signed = [
                keys.sign_document({**row.claim, **stamp, "nonce": new_nonce()}, key, created=now)
                for row in batch
            ]
            receipts.hold(
                number, [(row.line, row.ref, row.digest, doc) for row, doc in zip(batch, signed, strict=True)]
            )
            flying.append((number, batch, signed, pool.submit(client.file_claims, signed)))
            if len(flying) >= IN_FLIGHT:
                settle()
        while flying:
            settle()
    return filed, stopped


def _report(
    args: argparse.Namespace,
    counts: dict[str, int],
    failed: list[tuple[int, str]],
    duplicates: dict[int, int],
    stale: list[tuple[int, str]],
    receipts: Path,
    stopped: str | None,
) -> int:
    failed.sort()
    if args.json:
        print_json(
            {
                **counts,
                "failed": [{"line": line, "reason": reason} for line, reason in failed],
                "duplicates": [{"line": line, "same_as": same} for line, same in sorted(duplicates.items())],
                "stale": [{"line": line, "id": claim_id} for line, claim_id in sorted(stale)],
                "receipts": None if args.dry_run else str(receipts),
                "stopped": stopped,
            }
        )
    else:
        for line, reason in failed:
            print(_("kotowari: line {line}: {reason}").format(line=line, reason=reason), file=sys.stderr)
        for line, same in sorted(duplicates.items()):
            message = _("kotowari: line {line}: the same claim as line {same}; filed once")
            print(message.format(line=line, same=same), file=sys.stderr)
        if stale:
            message = _(
                "kotowari: {count} claim(s) filed earlier from rows no longer in the file (edited or "
                "removed) stay in force until withdrawn:"
            )
            print(message.format(count=len(stale)), file=sys.stderr)
            for line, claim_id in sorted(stale)[:10]:
                print(_("  was line {line}: {id}").format(line=line, id=claim_id), file=sys.stderr)
        if stopped:
            message = _("kotowari: stopped: {reason}; run the same command again to resume")
            print(message.format(reason=stopped), file=sys.stderr)
        print(_summary(counts, len(failed), receipts if not args.dry_run else None))
    return 1 if failed or stopped else 0


def _summary(counts: dict[str, int], failed: int, receipts: Path | None) -> str:
    if "checked" in counts:
        message = _("checked {checked} claim(s): {failed} row(s) would fail; nothing was signed or filed")
        return message.format(checked=counts["checked"], failed=failed)
    parts = [_("filed {count}").format(count=counts["filed"])]
    if counts.get("recovered"):
        parts.append(_("recovered {count} from an interrupted run").format(count=counts["recovered"]))
    parts.append(_("already filed {count}").format(count=counts["already_filed"]))
    parts.append(_("failed {count}").format(count=failed))
    return _(", ").join(parts) + _("; receipts in {path}").format(path=receipts)


def register(claim: Any) -> None:
    """Add `claim import` to the `claim` sub-commands."""
    from crawler_client.claim_rows import COLUMNS
    from crawler_client.cli_support import kind_arg

    columns = "\n".join(f"  {name:<16} {_(text)}" for name, text in COLUMNS.items())
    description = _(
        "One claim per row. Columns (CSV header, or JSON keys; '-' and ' ' read as '_'; several values of "
        "an item column separated by '|'):\n{columns}\n\nA re-run files only rows not filed before (the "
        "receipts file remembers); exit status 0 when every row is in, 1 when some failed (each reported "
        "with its line number), 2 for a usage error."
    )
    parser = claim.add_parser(
        "import",
        help=_("build, sign and file one claim per row of a CSV or JSON-lines file (resumable)"),
        description=description.format(columns=columns),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help=_("CSV (.csv) or JSON lines (.jsonl), UTF-8"))
    parser.add_argument("--key", required=True, metavar="FILE", help=_("sign every claim with this key"))
    parser.add_argument(
        "--registry",
        default=os.environ.get("KOTOWARI_REGISTRY"),
        metavar="URL",
        help=_("the registry's base URL (default: $KOTOWARI_REGISTRY)"),
    )
    parser.add_argument(
        "--receipts",
        metavar="PATH",
        help=_("JSON lines of receipts, one per filed row (default: FILE.receipts.jsonl)"),
    )
    parser.add_argument(
        "--kind", type=kind_arg, choices=("work", "voice", "likeness"), help=_("for rows without a kind")
    )
    parser.add_argument("--deny", metavar="USES", help=_("for rows without a deny column"))
    parser.add_argument("--allow", metavar="USES", help=_("for rows without an allow column"))
    parser.add_argument(
        "--default",
        action="append",
        metavar="COLUMN=VALUE",
        help=_(
            "fill COLUMN where a row leaves it empty, e.g. --default authority='Agreement of 2025' "
            "(repeatable)"
        ),
    )
    parser.add_argument(
        "--format", choices=("csv", "jsonl"), help=_("default: from the file name, else the content")
    )
    parser.add_argument("--encoding", default="utf-8-sig", help=_("default: UTF-8, with or without a BOM"))
    parser.add_argument(
        "--batch",
        type=int,
        metavar="N",
        help=_("rows per request (default {count})").format(count=DEFAULT_BATCH),
    )
    parser.add_argument("--dry-run", action="store_true", help=_("check every row; sign and file nothing"))
    parser.add_argument("--json", action="store_true", help=_("print the summary as JSON"))
    parser.set_defaults(run=cmd_claim_import)
