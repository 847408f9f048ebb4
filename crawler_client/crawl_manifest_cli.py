"""`kotowari manifest crawl`: a signed crawl manifest from a GuardedTransport audit log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from crawler_client.cli_support import UsageError, read_key, refuse_repeats, write_document
from crawler_client.i18n import _


def cmd_manifest_crawl(args: argparse.Namespace) -> int:
    from crawler_client.crawl_manifest import CrawlManifestInvalid, crawl_manifest

    key = read_key(args.key)
    try:
        document = crawl_manifest(Path(args.log), key)
    except CrawlManifestInvalid as exc:
        raise UsageError(str(exc)) from None
    write_document(document, args.out)
    listed = ", ".join(sorted(document["signals"]))
    summary = _("{count} URLs refused; signals consulted: {signals}")
    print(summary.format(count=document["refused"]["count"], signals=listed), file=sys.stderr)
    return 0


def add_crawl(manifest: Any) -> None:
    """`manifest crawl`, beside `manifest submit` (crawler_client/disclosure_cli.py)."""
    crawl = refuse_repeats(
        manifest.add_parser("crawl", help=_("sign a crawl manifest from a GuardedTransport audit log"))
    )
    crawl.add_argument("log", metavar="LOG", help=_("the audit log (GuardedTransport(audit=…))"))
    crawl.add_argument("--key", required=True, metavar="FILE", help=_("the operator's key file"))
    crawl.add_argument("--out", metavar="FILE", help=_("write here (default: standard output)"))
    crawl.set_defaults(run=cmd_manifest_crawl)
