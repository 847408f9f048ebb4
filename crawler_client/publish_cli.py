"""`kotowari publish --out DIR [--watch] [--registry URL]`: the registry's reads as static files.

See `crawler_client.publish` for the tree and why it is pulled from the running registry; without
`--registry` (or KOTOWARI_REGISTRY), from the registry of `--data-dir`/`--db` on this machine,
served privately on loopback while publishing (`crawler_client.local_registry`). Without
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

from crawler_client.cli_support import UsageError, os_reason
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
    local = args.data_dir is not None or args.db is not None
    if args.registry and local:
        raise UsageError(_("--data-dir and --db name a registry on this machine: not with --registry"))
    registry = args.registry or (None if local else os.environ.get("KOTOWARI_REGISTRY"))
    if registry:
        return _publish(args, registry)
    from crawler_client.local_registry import local_registry

    with local_registry(args.data_dir, args.db) as url:
        return _publish(args, url)


def _publish(args: argparse.Namespace, registry: str) -> int:
    from crawler_client.publish import Publisher  # httpx and the snapshot format only when publishing

    try:
        publisher = Publisher(registry, args.out, deltas=args.deltas, max_files=args.max_files)
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
    publish.add_argument(
        "--registry",
        metavar="URL",
        help=_(
            "the registry's base URL (default: $KOTOWARI_REGISTRY; without either, the registry of "
            "--data-dir or --db on this machine)"
        ),
    )
    publish.add_argument(
        "--data-dir",
        default=None,
        metavar="DIR",
        help=_("without --registry: the data directory of the registry to publish (as kotowari serve's)"),
    )
    publish.add_argument(
        "--db", default=None, metavar="URL", help=_("without --registry: its database (as kotowari serve's)")
    )
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
