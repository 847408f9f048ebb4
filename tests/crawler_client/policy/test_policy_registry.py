"""The registry signal through the real sources: a signed local snapshot, and the online client
against a real registry process (the other policy tests use a stand-in)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import keys
from crawler_client.cli import main
from crawler_client.client import Client
from crawler_client.policy import Policy
from crawler_client.snapshot import Snapshot
from registry.snapshot import of_log
from tests.conftest import ServerProcess, start_server, stop_server
from tests.factories import signed_claim

from .conftest import Site

UA = "ExampleBot/1.0"


@pytest.fixture(scope="module")
def registry() -> Iterator[ServerProcess]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        running = start_server(Path(folder))
        try:
            yield running
        finally:
            stop_server(running)


def test_a_reserved_url_in_a_snapshot_is_disallowed_before_any_fetch(
    site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, now = keys.SigningKey.generate(), datetime.now(UTC)
    claim = signed_claim(key, now, urls=(site.url("/works/"),), deny=("train-ai",))
    raw = of_log([claim], key=key, origin="kotowari.test/policy", spaces={}, now=now)
    with Policy(Snapshot.from_bytes(raw), allow_private=True) as policy:
        reserved = policy.evaluate(site.url("/works/a.png"), "train-ai", UA)
        elsewhere = policy.evaluate(site.url("/blog/"), "train-ai", UA)
    assert not reserved.allowed and keys.document_id(claim)[:12] in reserved.explain()
    assert elsewhere.allowed
    assert "/works/a.png" not in site.paths()  # decided before the content request

    (tmp_path / "claims.snapshot").write_bytes(raw)
    argv = ["policy", site.url("/works/b.png"), "--purpose", "train-ai", "--user-agent", UA]
    assert main([*argv, "--allow-private", "--snapshot", str(tmp_path / "claims.snapshot")]) == 1
    assert capsys.readouterr().out.startswith("disallowed")


def test_a_reserved_url_at_the_online_registry_is_disallowed(registry: ServerProcess, site: Site) -> None:
    key = keys.SigningKey.generate()
    with Client(registry.url) as client:
        client.file_claim(
            signed_claim(key, datetime.now(UTC), urls=(site.url("/online/"),), deny=("train-ai",))
        )
        with Policy(client, allow_private=True) as policy:
            assert not policy.evaluate(site.url("/online/x.png"), "train-ai", UA).allowed
            assert policy.evaluate(site.url("/online/x.png"), "search", UA).allowed
