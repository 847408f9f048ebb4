"""`kotowari publish --registry URL --out DIR [--watch]`: the registry's reads as static files.

See `crawler_client.publish` for the tree and why it is pulled from the running registry. Without
`--watch`, rounds run until the tree is complete, then the command exits 0; with it, the tree is
kept up to date every `--interval` seconds until SIGINT or SIGTERM, which end it cleanly (the
round under way finishes; its files are whole, the checkpoint written last).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from crawler_client.cli_support import UsageError, os_reason, registry_flag
from crawler_client.i18n import _, said

DEFAULT_INTERVAL = 10.0


def _writable(out: str) -> Path:
    """`--out` as a directory this process can write (created if missing), else a usage error."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise UsageError(_("--out {path}: not a directory").format(path=out))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            _("--out {path}: cannot create it ({reason})").format(path=out, reason=os_reason(exc))
        ) from None
    if not path.is_dir():
        raise UsageError(_("--out {path}: not a directory").format(path=out))
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(
            _("--out {path}: not writable ({reason})").format(path=out, reason=_("permission denied"))
        )
    return path


def _shown(done: Any) -> str:
    if not done.complete and not done.written and done.notes:
        return _("publish: round failed, retrying: {detail}").format(detail=said(done.notes[0]))
    line = _("published size {size} (snapshot at {snapshot}): {count} files written").format(
        size=done.tree_size, snapshot=done.snapshot_size, count=len(done.written)
    )
    if not done.complete:
        line += _("; more to fetch")
    return line


def cmd_publish(args: argparse.Namespace) -> int:
    if args.interval <= 0:
        raise UsageError(_("--interval is a number of seconds above 0"))
    if args.deltas < 0:
        raise UsageError(_("--deltas is a number of earlier sizes (0 or more)"))
    if args.max_files < 1:
        raise UsageError(_("--max-files is at least 1"))
    from crawler_client.publish import Publisher  # httpx and the snapshot format only when publishing

    try:
        publisher = Publisher(args.registry, args.out, deltas=args.deltas, max_files=args.max_files)
    except ValueError as exc:  # a registry URL that is not http(s)
        raise UsageError(str(exc)) from None
    _writable(args.out)
    stop = threading.Event()
    if args.watch:
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, lambda *_: stop.set())
    with publisher:
        try:
            done = publisher.publish()
            while not done.complete and not stop.is_set():
                print(_shown(done), flush=True)
                done = publisher.publish()
        except OSError as exc:
            raise UsageError(
                _("--out {path}: {reason}").format(path=args.out, reason=os_reason(exc))
            ) from None
        print(_shown(done), flush=True)
        if not args.watch:
            return 0
        stop.wait(args.interval)
        publisher.watch(args.interval, stop, lambda d: print(_shown(d), file=sys.stdout, flush=True))
    print(_("publish: stopped"), flush=True)
    return 0


def register(commands: Any) -> None:
    """Add `publish` to the `kotowari` parser."""
    publish = commands.add_parser(
        "publish",
        help=_("write the log's checkpoint, tiles, snapshot and deltas as files for a static server or CDN"),
        description=_(
            "Copy the registry's reads (checkpoint, tiles, entry bundles, snapshot and deltas, identity) "
            "into DIR, verified, in the layout the registry serves them, with cache headers for nginx "
            "(_nginx.conf) and CDNs (_headers). Files that never change are written once; the "
            "checkpoint last."
        ),
    )
    registry_flag(publish)
    publish.add_argument(
        "--out", required=True, metavar="DIR", help=_("the directory to publish into (created)")
    )
    publish.add_argument("--watch", action="store_true", help=_("keep the tree up to date until interrupted"))
    publish.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=_("with --watch: seconds between rounds (default {seconds:g})").format(seconds=DEFAULT_INTERVAL),
    )
    publish.add_argument(
        "--deltas",
        type=int,
        default=16,
        metavar="N",
        help=_("publish deltas from this many earlier sizes (default 16)"),
    )
    publish.add_argument(
        "--max-files",
        type=int,
        default=2000,
        metavar="N",
        help=_("files fetched per round at most (default 2000)"),
    )
    publish.set_defaults(run=cmd_publish)
