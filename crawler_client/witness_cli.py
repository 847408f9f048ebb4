"""`kotowari witness serve|key`: run a C2SP tlog-witness (c2sp.org/tlog-witness) that cosigns
the checkpoints of the logs it is given, once each is consistent with the last it cosigned.

    kotowari witness serve --data-dir DIR --log ORIGIN=VERIFIER_KEY [--log …] [--name NAME]
                           [--host H] [--port P]
    kotowari witness key --data-dir DIR [--name NAME]

The witness's Ed25519 key and its state live in DIR. Its name (the key name in its cosignature
lines and verifier key) is fixed the first time either command runs on DIR: give `--name` then,
ideally a schema-less URL naming the witness (`witness.example.org/w1`); without it the name is
derived from the key. The same origin may be given several times with different keys (a log
rotating its key).

The server itself is imported only when a command runs, so this module loads with the client's
dependencies alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from crawler_client.cli_support import Parser, UsageError, listening_socket
from crawler_client.i18n import _

__all__ = ["DEFAULT_PORT", "parse_log_flag", "register"]

DEFAULT_PORT = 7380
"""litewitness's default port, so a witness is where operators of one expect it."""


def parse_log_flag(text: str) -> tuple[str, str]:
    """Split "ORIGIN=VERIFIER_KEY" into its origin and verifier key.

    A verifier key may end in base64 padding ("="), so the split is at the first "=" after which
    a well-formed verifier key follows; the origin may hold "=" itself. A UsageError otherwise.
    """
    from keys.note import parse_verifier_key

    start = 0
    reason = "no '=' between the origin and the key"
    while (split := text.find("=", start)) >= 0:
        origin, key = text[:split], text[split + 1 :]
        try:
            parse_verifier_key(key)
        except ValueError as exc:
            reason = str(exc)
            start = split + 1
            continue
        if not origin or "\n" in origin:
            raise UsageError(_("--log {text!r}: the origin is empty").format(text=text))
        return origin, key
    message = _("--log {text!r}: expected ORIGIN=VERIFIER_KEY ({reason})")
    raise UsageError(message.format(text=text, reason=reason))


def _logs(flags: list[str]) -> dict[str, list[str]]:
    logs: dict[str, list[str]] = {}
    for flag in flags:
        origin, key = parse_log_flag(flag)
        logs.setdefault(origin, [])
        if key not in logs[origin]:
            logs[origin].append(key)
    return logs


def _witness_module() -> Any:
    try:
        import api.witness
    except ImportError as exc:
        message = _("the witness is not installed ({module}): pip install 'kotowari[server]'")
        raise UsageError(message.format(module=exc.name)) from None
    return api.witness


def cmd_witness_serve(args: argparse.Namespace) -> int:
    witness_module = _witness_module()
    try:
        import uvicorn
    except ImportError as exc:
        message = _("the witness is not installed ({module}): pip install 'kotowari[server]'")
        raise UsageError(message.format(module=exc.name)) from None
    logs = _logs(args.log)
    sock = listening_socket(args.host, args.port)
    port = sock.getsockname()[1]
    data_dir = Path(args.data_dir)
    try:
        app = witness_module.create_witness_app(data_dir, logs, name=args.name)
    except (witness_module.WitnessStateError, ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    witness = app.state.witness
    print(_("Kotowari witness {key}").format(key=witness.verifier_key), flush=True)
    if witness.key_created:
        key_file = data_dir / witness_module.KEY_FILE
        print(_("created its signing key in {path} (mode 0600)").format(path=key_file), flush=True)
    for origin in logs:
        print(_("witnessing {origin}").format(origin=origin), flush=True)
    print(_("listening on http://{host}:{port}").format(host=args.host, port=port), flush=True)
    server = uvicorn.Server(
        uvicorn.Config(app, host=args.host, port=port, log_level="warning", access_log=False)
    )
    server.run(sockets=[sock])
    return 0 if server.started else 2


def cmd_witness_key(args: argparse.Namespace) -> int:
    witness_module = _witness_module()
    data_dir = Path(args.data_dir)
    try:
        witness = witness_module.Witness(data_dir, {}, name=args.name)
    except (witness_module.WitnessStateError, ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    if witness.key_created:
        key_file = data_dir / witness_module.KEY_FILE
        print(
            _("created the witness's signing key in {path} (mode 0600)").format(path=key_file),
            file=sys.stderr,
        )
    print(witness.verifier_key)
    return 0


def register(commands: Any) -> None:
    """Add `witness serve` and `witness key` to the `kotowari` parser."""
    witness = commands.add_parser(
        "witness",
        help=_("run a C2SP tlog-witness that cosigns consistent checkpoints of the logs it is given"),
    ).add_subparsers(dest="witness_command", required=True, metavar="COMMAND", parser_class=Parser)

    serve = witness.add_parser(
        "serve", help=_("serve add-checkpoint (c2sp.org/tlog-witness); prints the witness's verifier key")
    )
    serve.add_argument(
        "--data-dir", required=True, metavar="DIR", help=_("where the witness key and state live")
    )
    serve.add_argument(
        "--log",
        required=True,
        action="append",
        metavar="ORIGIN=VERIFIER_KEY",
        help=_("a log to witness: its checkpoint origin and note verifier key (repeatable)"),
    )
    serve.add_argument("--name", metavar="NAME", help=_("the witness's key name, fixed at first start"))
    serve.add_argument(
        "--host", default="127.0.0.1", metavar="H", help=_("address to listen on (default 127.0.0.1)")
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="P",
        help=_("port (default {port})").format(port=DEFAULT_PORT),
    )
    serve.set_defaults(run=cmd_witness_serve)

    key = witness.add_parser(
        "key", help=_("print the witness's cosignature verifier key (creating its key if there is none)")
    )
    key.add_argument("--data-dir", required=True, metavar="DIR", help=_("the witness's data directory"))
    key.add_argument("--name", metavar="NAME", help=_("the witness's key name, fixed at first use"))
    key.set_defaults(run=cmd_witness_key)
