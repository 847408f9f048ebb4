"""`kotowari policy URL --purpose USE --user-agent UA`: may this crawler use this URL for this use?

Reads every opt-out signal the way the guarded fetcher does: robots.txt, tdmrep.json, ai.txt, RSL
licences and the registry (given `--registry` or `--snapshot`) before fetching; then, unless
`--pre-fetch-only` or already refused, fetches the URL itself and reads its headers, meta tags,
embedded metadata and the RSL licences it names.
Prints the decision and every signal with its verdict, then robots.txt's crawl delay, request
rate, sitemaps and RSL licences for the crawler (`--json`: the whole decision).

Exit status: 0 allowed, 1 disallowed, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING, Any

from crawler_client.cli_support import (
    Negative,
    UsageError,
    min_authority_flag,
    min_authority_of,
    print_json,
    purpose_flag,
)
from crawler_client.i18n import N_, _, said

if TYPE_CHECKING:  # httpx, the policy and its signal parsers load when `kotowari policy` runs
    from crawler_client.policy import Decision, Policy, RegistrySource

__all__ = ["cmd_policy", "register"]


def register(commands: Any) -> None:
    policy = commands.add_parser(
        "policy", help=_("decide whether a crawler may use a URL for a use, from every opt-out signal")
    )
    policy.add_argument("url", metavar="URL", help=_("the URL to decide about"))
    purpose_flag(policy, _("the use the content is fetched for"))
    policy.add_argument(
        "--user-agent",
        required=True,
        metavar="UA",
        help=_("the crawler's product token (e.g. ExampleBot/1.0)"),
    )
    source = policy.add_mutually_exclusive_group()
    source.add_argument("--registry", metavar="URL", help=_("also ask this Kotowari registry (online)"))
    source.add_argument("--snapshot", metavar="FILE", help=_("also check this registry snapshot (offline)"))
    policy.add_argument(
        "--allow-private", action="store_true", help=_("allow private, loopback and link-local addresses")
    )
    policy.add_argument(
        "--pre-fetch-only",
        action="store_true",
        help=_("decide from site files and the registry; do not fetch the URL"),
    )
    min_authority_flag(policy)
    policy.add_argument("--honour-noindex", action="store_true", help=_("let noindex reserve search"))
    policy.add_argument(
        "--deny-unknown", action="store_true", help=_("treat uses no signal speaks about as reserved")
    )
    policy.add_argument(
        "--timeout", type=float, default=10.0, metavar="S", help=_("per request (default 10)")
    )
    policy.add_argument("--json", action="store_true", help=_("print the whole decision as JSON"))
    policy.set_defaults(run=cmd_policy)


def _registry(args: argparse.Namespace) -> tuple[RegistrySource | None, Any]:
    """The registry source and something to close afterwards."""
    if args.registry:
        from crawler_client.client import Client

        try:
            client = Client(args.registry, timeout=args.timeout)
        except ValueError as exc:
            raise UsageError(_("--registry: {detail}").format(detail=exc)) from None
        return client, client
    if args.snapshot:
        try:
            module = importlib.import_module("crawler_client.snapshot")
        except ImportError:
            raise UsageError(
                _("--snapshot: this installation has no snapshot support (crawler_client.snapshot)")
            ) from None
        try:
            snapshot = module.Snapshot.open(args.snapshot)
        except (OSError, ValueError) as exc:
            from crawler_client.cli_support import os_reason

            reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
            raise UsageError(
                _("--snapshot {path}: {reason}").format(path=args.snapshot, reason=reason)
            ) from None
        return snapshot, snapshot
    return None, None


def cmd_policy(args: argparse.Namespace) -> int:
    import httpx

    from crawler_client.policy import Policy
    from crawler_client.signals.robots import product_token

    url = httpx.URL(args.url) if args.url.startswith(("http://", "https://")) else None
    if url is None or not url.host:
        raise UsageError(_("{url!r} is not an http(s) URL").format(url=args.url))
    if not product_token(args.user_agent):
        message = _("--user-agent {agent!r}: it must start with a product token (letters, _ or -)")
        raise UsageError(message.format(agent=args.user_agent))
    if args.timeout <= 0:
        raise UsageError(_("--timeout must be positive"))
    minimum = min_authority_of(args)
    if minimum is not None and not (args.registry or args.snapshot):
        raise UsageError(_("--min-authority needs --registry or --snapshot: it selects registry claims"))
    registry, closable = _registry(args)
    policy = Policy(
        registry,
        allow_private=args.allow_private,
        honour_noindex=args.honour_noindex,
        unknown="deny" if args.deny_unknown else "allow",
        timeout=args.timeout,
        min_authority=minimum,
    )
    try:
        decision = policy.evaluate(args.url, args.purpose, args.user_agent)
        if decision.allowed and not args.pre_fetch_only:
            decision = _fetch(policy, args)
    finally:
        policy.close()
        if closable is not None and hasattr(closable, "close"):
            closable.close()
    _print(decision, args.json)
    if not decision.allowed:
        raise Negative
    return 0


def _fetch(policy: Policy, args: argparse.Namespace) -> Decision:
    """Fetch the URL through the guarded transport; the last decision it logged is the answer."""
    import httpx

    from crawler_client.errors import FetchRefused
    from crawler_client.fetcher import GuardedTransport
    from crawler_client.policy import Decision

    decisions: list[dict[str, Any]] = []
    transport = GuardedTransport(
        policy, purpose=args.purpose, user_agent=args.user_agent, audit=decisions.append, max_per_host=1
    )
    with httpx.Client(transport=transport, timeout=args.timeout, follow_redirects=True) as http:
        try:
            http.get(args.url)
        except FetchRefused as exc:
            if isinstance(exc.decision, Decision):
                return exc.decision
            raise UsageError(str(exc)) from None
        except httpx.HTTPError as exc:
            raise UsageError(_("fetching {url}: {detail}").format(url=args.url, detail=exc)) from None
    last = transport.last_decision
    if last is None:
        raise UsageError(_("no decision was made"))
    return last


def _print(decision: Decision, as_json: bool) -> None:
    if as_json:
        print_json(decision.to_json())
        return
    from crawler_client.cli_messages import decision_shown

    print(said(decision.explain()))
    for signal in decision.signals:
        verdict = decision_shown(signal.for_use(decision.purpose))
        source, reason = said(signal.source), said(signal.reason)
        print(f"  {verdict:<8} {source} ({signal.stage}): {reason}", file=sys.stdout)
    site = decision.site
    if site is not None:
        pacing = [f"crawl-delay {site.crawl_delay:g}s"] if site.crawl_delay is not None else []
        if site.request_rate is not None:
            pacing.append(f"request-rate {site.request_rate[0]}/{site.request_rate[1]:g}s")
        labels = ((N_("pacing"), pacing), (N_("sitemap"), site.sitemaps), (N_("licence"), site.licences))
        for label, values in labels:
            for value in values:
                print(f"  {_(label):<8} {value}")
