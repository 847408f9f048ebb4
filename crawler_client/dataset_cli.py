"""`kotowari snapshot pull` and `kotowari filter`: the offline side of the command line."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from crawler_client.cli_support import (
    Parser,
    UsageError,
    min_authority_flag,
    min_authority_of,
    purpose_flag,
    read_key,
    registry_flag,
)
from crawler_client.i18n import _
from crawler_client.witness_options import add_witness_flags, witness_options

if TYPE_CHECKING:
    from concurrent.futures import Future

    import pyarrow as pa

    from crawler_client.filter import BatchDecisions

#: `crawler_client.filter.SCHEMES`, without importing NumPy and Arrow to build the parser.
SCHEMES = ("url", "sha256")

T = TypeVar("T")


def cmd_snapshot_pull(args: argparse.Namespace) -> int:
    from crawler_client.snapshot import pull

    pulled = pull(args.registry, args.out, registry_did=args.registry_did, **witness_options(args))
    if args.json:
        print(json.dumps(pulled.__dict__))
        return 0
    how = {
        "full": _("full download"),
        "delta": _("delta from {size}").format(size=pulled.previous),
        "unchanged": _("unchanged"),
    }[pulled.how]
    pulled_line = _("{path}: tree size {size}, {claims} claims in force ({how}, {bytes:,} bytes)")
    print(
        pulled_line.format(
            path=args.out, size=pulled.tree_size, claims=pulled.claims, how=how, bytes=pulled.bytes_downloaded
        )
    )
    return 0


class _Progress:
    """A one-line progress display on a terminal; silent otherwise."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.enabled = sys.stderr.isatty()
        self.started = self.shown = time.monotonic()

    def update(self, done: int, removed: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.shown < 0.5:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-9)
        share = f" ({100 * done / self.total:.0f}%)" if self.total else ""
        line = _("{done:,} rows{share}, {removed:,} removed, {rate:,.0f} rows/s")
        print("\r" + line.format(done=done, share=share, removed=removed, rate=rate), end="", file=sys.stderr)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def cmd_filter(args: argparse.Namespace) -> int:
    # The filter makes no BLAS calls: OpenBLAS's spinning start-up threads would only cost CPU.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    source, target = Path(args.input), Path(args.output)
    if source.resolve() == target.resolve():
        raise UsageError(_("IN and OUT must be different files"))
    if (args.manifest is None) != (args.key is None):
        raise UsageError(_("--manifest and --key go together: the manifest is signed with your key"))
    key = read_key(args.key) if args.key else None
    minimum = min_authority_of(args)
    at = _moment(args.at)
    from crawler_client.datasets import Reader, Writer, dataset_format

    output_format = dataset_format(target)  # refused before anything starts reading
    manifest = Path(args.manifest) if args.manifest else None
    source_digest = _digest_meanwhile(source) if manifest else None
    reader = Reader(source)
    # The first batches are read while the rest of the filter is imported and the snapshot opens,
    # later ones while others are decided and written (a few batches ahead: memory stays bounded).
    numbered = _numbered(reader.batches())
    batches = _Prefetch(numbered, _READ_AHEAD) if args.workers > 1 else numbered
    try:
        import numpy as np
        import pyarrow.compute as pc

        from crawler_client.arrow_arrays import arrow_of
        from crawler_client.filter import Tally, decide_batch, describe, kept_mask, string_column
        from crawler_client.manifest import RemovedRows, removed_lines, sign_manifest
        from crawler_client.snapshot import INVALID, RESERVED, Snapshot

        snapshot = Snapshot.open(args.snapshot)
    except BaseException:
        if isinstance(batches, _Prefetch):
            batches.close()
        raise
    # The snapshot's claims are many long-lived objects: out of the collector's sight, the
    # answers built per set of matches do not make every full collection walk them again.
    gc.freeze()
    if reader.schema is not None and args.column not in reader.schema.names:
        message = _("{file} has no column {column!r} (columns: {columns})")
        if isinstance(batches, _Prefetch):
            batches.close()
        raise UsageError(
            message.format(file=source, column=args.column, columns=", ".join(reader.schema.names))
        )
    removed = RemovedRows(manifest.with_name(manifest.stem + ".removed.jsonl")) if manifest else None
    partial = target.with_name(f".{target.name}.partial")
    writer = Writer(partial, output_format)
    tally, progress = Tally(), _Progress(reader.total_rows)
    started = time.monotonic()

    def decided(numbered: tuple[int, pa.RecordBatch]) -> _Decided:
        """Everything about a batch but writing it, on a worker thread."""
        first_row, batch = numbered
        options = {"column": args.column, "purpose": args.purpose, "scheme": args.scheme, "at": at}
        decisions = decide_batch(batch, snapshot, territory=args.territory, min_authority=minimum, **options)
        keep = kept_mask(decisions.codes, args.invalid)
        listed = values = lines = None
        if removed is not None:
            listed = np.flatnonzero((decisions.codes == RESERVED) | (decisions.codes == INVALID))
            values = pc.take(string_column(batch, args.column), arrow_of(listed))
            lines = removed_lines(first_row, listed, values, decisions)
        return _Decided(
            first_row, batch.filter(arrow_of(keep)), decisions, int(keep.sum()), listed, values, lines
        )

    try:
        for done in _in_order(decided, batches, args.workers):
            writer.write(done.kept)
            tally.add(done.decisions.codes, done.kept_rows)
            if removed is not None:
                removed.add_batch(done.first_row, done.removed, done.values, done.decisions, done.lines)
            offset = done.first_row + len(done.decisions.codes)
            progress.update(offset, tally.removed)
        writer.close(reader.schema)
        os.replace(partial, target)
    except BaseException:
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        if isinstance(batches, _Prefetch):
            batches.close()
        progress.close()
    seconds = time.monotonic() - started
    summary: dict[str, Any] = {"rows": describe(tally), "snapshot_tree_size": snapshot.tree_size}
    summary["min_authority"] = minimum
    summary["rows_per_second"] = round(tally.rows / max(seconds, 1e-9))
    if manifest is not None and removed is not None and key is not None:
        document = sign_manifest(
            key=key,
            state=snapshot.state,
            purpose=args.purpose,
            at=at,
            territory=args.territory,
            column=args.column,
            scheme=args.scheme,
            invalid=args.invalid,
            source=_describe_file(source, reader.format, tally.rows, source_digest),
            output=_describe_file(
                target, reader.format if source.suffix == target.suffix else "", tally.kept
            ),
            rows=describe(tally),
            removed=removed.close(),
            now=datetime.now(UTC),
            min_authority=minimum,
        )
        manifest.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        summary["manifest"] = str(manifest)
    if args.json:
        print(json.dumps(summary))
        return 0
    invalid = tally.decisions["invalid"]
    if args.invalid == "drop":
        counts = _(
            "{rows:,} rows: {kept:,} kept, {removed:,} removed ({reserved:,} reserved for {purpose}, "
            "{invalid:,} unparsable dropped); snapshot at tree size {size}"
        )
    else:
        counts = _(
            "{rows:,} rows: {kept:,} kept, {removed:,} removed ({reserved:,} reserved for {purpose}, "
            "{invalid:,} unparsable kept); snapshot at tree size {size}"
        )
    line = counts.format(
        rows=tally.rows,
        kept=tally.kept,
        removed=tally.removed,
        reserved=tally.decisions["n"],
        purpose=args.purpose,
        invalid=invalid,
        size=snapshot.tree_size,
    )
    if minimum:
        line += _("; counting only claims of at least {level} authority").format(level=minimum)
    print(line)
    if manifest is not None:
        print(_("signed manifest: {path}").format(path=manifest))
    return 0


class _Decided(NamedTuple):
    """A batch decided: what to write, the decisions, and its removed rows for the manifest."""

    first_row: int
    kept: pa.RecordBatch
    decisions: BatchDecisions
    kept_rows: int
    removed: Any  # positions in the batch (NumPy), or None without a manifest
    values: Any  # their values (Arrow)
    lines: Any  # their manifest lines (Arrow)


def _numbered(batches: Iterator[pa.RecordBatch]) -> Iterator[tuple[int, pa.RecordBatch]]:
    first_row = 0
    for batch in batches:
        yield first_row, batch
        first_row += batch.num_rows


_END: Any = object()
_READ_AHEAD = 8  # batches read before they are needed


class _Prefetch(Iterator[T]):
    """`items`, produced on a thread of their own up to `depth` ahead.

    Reading (Parquet decoding lets go of the GIL) then overlaps opening the snapshot, deciding and
    writing instead of waiting for them: read, decide and write run as a pipeline. An error
    reading is raised to the consumer; `close` stops the thread (at the batch it is reading).
    """

    def __init__(self, items: Iterator[T], depth: int) -> None:
        import queue
        import threading

        self._slots: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
        self._stopped = threading.Event()
        self._items = items
        self._done = False
        self._thread = threading.Thread(target=self._produce, name="kotowari-filter-read", daemon=True)
        self._thread.start()

    def _put(self, entry: tuple[Any, BaseException | None]) -> bool:
        import queue

        while not self._stopped.is_set():
            try:
                self._slots.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put((item, None)):
                    return
            self._put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._put((_END, exc))

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        item, error = self._slots.get()
        if item is _END:
            self.close()
            if error is not None:
                raise error
            raise StopIteration
        result: T = item
        return result

    def close(self) -> None:
        self._done = True
        self._stopped.set()
        self._thread.join()


def _in_order(
    function: Callable[[pa.RecordBatch], T], batches: Iterator[pa.RecordBatch], workers: int
) -> Iterator[T]:
    """`map(function, batches)` on `workers` threads, in order, with a few batches in flight.

    Arrow's compute kernels, Parquet and the regular expressions release the GIL, so a second
    thread overlaps one batch's vectorised work with another's Python.
    """
    if workers <= 1:
        yield from map(function, batches)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[T]] = deque()
        for batch in batches:
            pending.append(pool.submit(function, batch))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _digest_meanwhile(path: Path) -> Future[str]:
    """The file's SHA-256, computed on a thread while the filter runs (hashlib lets go of the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    from crawler_client.filter import file_sha256

    pool = ThreadPoolExecutor(max_workers=1)
    digest = pool.submit(file_sha256, str(path))
    pool.shutdown(wait=False)
    return digest


def _describe_file(path: Path, fmt: str, rows: int, digest: Future[str] | None = None) -> dict[str, Any]:
    from crawler_client.filter import file_sha256

    described: dict[str, Any] = {
        "name": path.name,
        "sha256": digest.result() if digest is not None else file_sha256(str(path)),
        "bytes": path.stat().st_size,
    }
    described["rows"] = rows
    if fmt:
        described["format"] = fmt
    return described


def _moment(text: str | None) -> datetime:
    from registry.documents import parse_timestamp

    if not text:
        return datetime.now(UTC)
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise UsageError(_("--at: {detail}").format(detail=exc)) from None


def register(commands: Any) -> None:
    snapshot = commands.add_parser("snapshot", help=_("keep a local, verified snapshot for offline checks"))
    actions = snapshot.add_subparsers(
        dest="snapshot_command", required=True, metavar="COMMAND", parser_class=Parser
    )
    pull_cmd = actions.add_parser("pull", help=_("create or update (by delta) a local snapshot, verified"))
    registry_flag(pull_cmd)
    pull_cmd.add_argument("--out", required=True, metavar="FILE", help=_("the local snapshot file"))
    pull_cmd.add_argument(
        "--registry-did", metavar="DID", help=_("refuse a snapshot signed by any other registry")
    )
    add_witness_flags(pull_cmd)
    pull_cmd.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    pull_cmd.set_defaults(run=cmd_snapshot_pull)

    filter_cmd = commands.add_parser(
        "filter", help=_("drop a dataset's rows reserved for a use (Parquet, CSV, JSONL)")
    )
    filter_cmd.add_argument(
        "--snapshot", required=True, metavar="FILE", help=_("a snapshot from `snapshot pull`")
    )
    purpose_flag(filter_cmd, _("the use the dataset is for"))
    filter_cmd.add_argument(
        "--column", required=True, metavar="COL", help=_("the column holding URLs (or hashes)")
    )
    filter_cmd.add_argument(
        "--scheme", choices=SCHEMES, default="url", help=_("what the column holds (default url)")
    )
    filter_cmd.add_argument(
        "--invalid",
        choices=("drop", "keep"),
        default="drop",
        help=_(
            "rows whose value cannot be checked are counted, listed in the manifest, and dropped "
            "(default) or kept"
        ),
    )
    filter_cmd.add_argument("--territory", metavar="CC", help=_("decide for this ISO 3166-1 territory"))
    min_authority_flag(filter_cmd)
    filter_cmd.add_argument(
        "--at", metavar="TIME", help=_("decide as of this RFC 3339 UTC time (default now)")
    )
    filter_cmd.add_argument("--manifest", metavar="FILE", help=_("write a signed compliance manifest here"))
    filter_cmd.add_argument("--key", metavar="FILE", help=_("your key file, to sign the manifest"))
    filter_cmd.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help=_("threads (default: 2 or the CPUs)")
    )
    filter_cmd.add_argument("--json", action="store_true", help=_("print the counts as JSON"))
    filter_cmd.add_argument("input", metavar="IN", help=_("the dataset to filter"))
    filter_cmd.add_argument("output", metavar="OUT", help=_("where to write the rows kept"))
    filter_cmd.set_defaults(run=cmd_filter)
