"""The registry of this machine's data directory (or `--db`), served on a private loopback port.

`kotowari publish` reads a registry over its public endpoints only, so that it publishes nothing
the registry would not serve. Without `--registry` it publishes the registry `kotowari serve` would
open with the same `--data-dir`/`--db` (and KOTOWARI_* settings): that registry is started here, in
this process, on 127.0.0.1 and a port the system chooses, read like any other, and stopped at the
end. It may run beside a `kotowari serve` of the same database, as a second worker would: it files
nothing, and every read follows the log in the database.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crawler_client.cli_support import UsageError, listening_socket
from crawler_client.i18n import _

__all__ = ["local_registry"]

START_TIMEOUT = 300.0  # seconds: start-up verifies the log and replays the index


@contextmanager
def local_registry(data_dir: str | None, db: str | None) -> Iterator[str]:
    """Serve the registry of `data_dir`/`db` on 127.0.0.1 while the block runs; yields its base URL."""
    try:
        import uvicorn

        from api import Settings, create_app
    except ImportError as exc:
        message = _("the server is not installed ({module}): pip install 'kotowari[server]'")
        raise UsageError(message.format(module=exc.name)) from None
    try:
        settings = Settings.from_env(db_url=db, host="127.0.0.1", port=0, data_dir=data_dir)
        settings.database_url  # noqa: B018 - refuse an unsupported URL before starting
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    folder = Path(settings.data_dir)
    if not (folder / "registry.key").is_file() or (
        not settings.db_url and not (folder / "kotowari.sqlite3").is_file()
    ):  # never a new, empty registry with a key of its own
        message = _("no registry in {path}: give --registry URL, or the --data-dir (and --db) of one")
        raise UsageError(message.format(path=settings.data_dir))
    sock = listening_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    settings = dataclasses.replace(settings, port=port)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # reported below, in the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="kotowari-local-registry", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                reason: Any = failure[0] if failure else _("it did not start")
                message = _("cannot open the registry in {path}: {reason}")
                raise UsageError(message.format(path=settings.data_dir, reason=reason))
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
