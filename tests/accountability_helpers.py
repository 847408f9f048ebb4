"""A real `kotowari serve` for the accountability tests: it checks domains over real HTTPS on
127.0.0.1 (a test CA from trustme, certificates for the names given), so an authority is
domain-verified the way it is in production; and the steps those tests take through it (register,
disclose, filter and submit a manifest, verify, designate, request)."""

from __future__ import annotations

import contextlib
import os
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import trustme

import keys
from crawler_client.cli import main
from registry.accountability.documents import new_disclosure, new_information_request
from registry.accountability.vocabulary import PRINCIPLE_ITEMS
from tests.conftest import ServerProcess, start_server, stop_server
from tests.factories import body
from tests.registry.authority.conftest import HttpsServer, Route, _Handler, _Server

NAMES = ("regulator.example", "acme.example", "other.example")


@contextlib.contextmanager
def https_server(names: tuple[str, ...] = NAMES) -> Iterator[HttpsServer]:
    """An HTTPS server on 127.0.0.1 with a test CA's certificate for `names`."""
    ca = trustme.CA()
    server = _Server(("127.0.0.1", 0), _Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*names).configure_cert(tls)
    server.tls, server.state = tls, HttpsServer(server.server_address[1], ca, {}, [], [])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Registry:
    """A running registry, its data directory and database (for `kotowari admin`), its HTTPS world."""

    process: ServerProcess
    db: str | None
    https: HttpsServer

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def data_dir(self) -> Path:
        return self.process.data_dir

    def admin(self, *argv: str) -> int:
        """`kotowari admin …` on the registry's own machine (its data directory and database), in this
        process (Tortoise caches SQL per connection name, not per dialect: cleared for each engine)."""
        from tortoise.backends.base.executor import EXECUTOR_CACHE

        EXECUTOR_CACHE.clear()
        extra = ["--data-dir", str(self.data_dir)] + (["--db", self.db] if self.db else [])
        return main(["admin", *argv, *extra])

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(self.url + path, params=params, timeout=30)

    def post(self, path: str, document: Any) -> httpx.Response:
        return httpx.post(self.url + path, content=body(document), timeout=30)

    def size(self) -> int:
        return int(self.get("/log/checkpoint").text.splitlines()[1])

    def verify_domain(self, did: str, host: str) -> None:
        """Publish `did` at https://HOST/.well-known/kotowari-did and have the registry check it."""
        self.https.route(host, "/.well-known/kotowari-did", Route(f"{did}\n".encode()))
        answer = httpx.post(
            self.url + "/v1/verifications",
            json={"did": did, "host": host, "method": "well-known"},
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text


@contextlib.contextmanager
def registry(data_dir: Path, db: str | None, names: tuple[str, ...] = NAMES) -> Iterator[Registry]:
    """`kotowari serve` on `db` (None: SQLite in `data_dir`), fetching over the test HTTPS server."""
    with https_server(names) as https:
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        ca_file = data_dir.parent / "https-ca.pem"
        https.ca.cert_pem.write_to_path(str(ca_file))
        settings = {
            "KOTOWARI_FETCH_CA_FILE": str(ca_file),
            "KOTOWARI_FETCH_HTTPS_PORT": str(https.port),
            "KOTOWARI_FETCH_RESOLVE": ",".join(f"{name}=127.0.0.1" for name in names),
            "KOTOWARI_FETCH_ALLOW_PRIVATE": "true",
        }
        saved = {name: os.environ.get(name) for name in settings}
        os.environ.update(settings)
        try:
            process = start_server(data_dir, db)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        try:
            yield Registry(process, db, https)
        finally:
            stop_server(process)


# ------------------------------------------------------------------ documents


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def registration(key: keys.SigningKey, name: str) -> dict[str, Any]:
    from registry.notices.documents import new_registration

    created = now()
    return keys.sign_document(
        new_registration(key.did, name, "legal@acme.example", created=created), key, created=created
    )


def disclosure(
    key: keys.SigningKey,
    model: str = "acme/painter-v2",
    *,
    operator: str | None = None,
    manifests: list[dict[str, Any]] | None = None,
    safeguards: list[dict[str, Any]] | None = None,
    explain: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A complete disclosure of `model` signed by `key` (naming `operator`, by default the key's DID)."""
    created = now()
    code = {item: {"answer": "comply"} for item in PRINCIPLE_ITEMS}
    code.update({item: {"answer": "explain", "explanation": why} for item, why in (explain or {}).items()})
    document = new_disclosure(
        operator or key.did,
        "model",
        model,
        training_data={
            "datasets": [{"kind": "web-crawl", "name": "Acme crawl 2026-03"}],
            "manifests": manifests or [],
            "signals_honoured": ["robots.txt", "tdmrep", "aipref", "registry"],
            "crawlers": ["AcmeBot"],
        },
        contact={"url": "https://acme.example/ai/contact", "languages": ["ja", "en"], "response_days": 7},
        principle_code=code,
        safeguards=safeguards or [],
        name="Acme Painter",
        created=created,
    )
    return keys.sign_document(document, key, created=created)


def information_request(
    key: keys.SigningKey, operator: str, deadline: datetime, **options: Any
) -> dict[str, Any]:
    created = now()
    document = new_information_request(
        key.did,
        operator,
        topics=options.pop("topics", ["safeguards", "training-data"]),
        questions=options.pop("questions", ["Which checks stop your service imitating a registered voice?"]),
        deadline=deadline,
        created=created,
        **options,
    )
    return keys.sign_document(document, key, created=created)


def filtered_manifest(reg: Registry, key_path: Path, folder: Path, urls: list[str]) -> dict[str, Any]:
    """`kotowari snapshot pull` and `kotowari filter --manifest` against the registry: the manifest."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    snapshot, crawl = folder / "claims.snapshot", folder / "crawl.parquet"
    pq.write_table(pa.table({"url": urls}), crawl)
    assert main(["snapshot", "pull", "--registry", reg.url, "--out", str(snapshot)]) == 0
    out, manifest = folder / "crawl.filtered.parquet", folder / "manifest.json"
    argv = ["filter", "--snapshot", str(snapshot), "--purpose", "train-ai", "--column", "url"]
    argv += ["--manifest", str(manifest), "--key", str(key_path), str(crawl), str(out)]
    assert main(argv) == 0
    return dict(json.loads(manifest.read_text(encoding="utf-8")))


def manifest_ref(manifest: dict[str, Any]) -> dict[str, Any]:
    """How a disclosure names a manifest: its canonical SHA-256 and its snapshot's checkpoint."""
    snapshot = manifest["snapshot"]
    return {
        "id": keys.document_id(manifest),
        "snapshot": {"tree_size": snapshot["tree_size"], "root_hash": snapshot["root_hash"]},
    }
