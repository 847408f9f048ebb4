"""`kotowari publish`: the registry's reads as a tree of static files any web server or CDN serves.

Why pull from a running registry over its own public endpoints (`--registry URL`) rather than read
its database: the publisher then needs no database credentials or registry key, runs anywhere the
registry is reachable (beside it, or on the CDN's origin host), cannot publish anything the registry
would not serve itself, and verifies what it copies (the checkpoint's signature, the snapshot's and
each delta's) before a reader can see it. Tiles and snapshots are byte for byte the registry's.

The tree (paths as the live registry serves them, so one URL layout works against both)::

    log/checkpoint                     the checkpoint (cosigned one when witnesses are configured)
    log/tile/{L}/{N}[.p/{W}]           hash tiles, C2SP tlog-tiles
    log/tile/entries/{N}[.p/{W}]       entry bundles
    v1/registry                        the registry's identity, plus "static": {...}: a static copy
    v1/snapshots/latest                pointer: {"tree_size": M, "snapshot": ..., "deltas_from": [...]}
    v1/snapshots/full/{M}              the full snapshot at tree size M
    v1/snapshots/delta/{N}-{M}         the delta from tree size N to M
    _headers, _nginx.conf              cache headers and content types by path, for a CDN and nginx

Full tiles, bundles, snapshots per size and deltas never change and are written once (never
rewritten: their inode and mtime stay); the checkpoint, pointers and partial tiles are short-lived.
Every file is written to a temporary name and renamed, and the checkpoint last, so a reader never
sees a checkpoint whose tiles are missing. A round is bounded (`max_files` fetched); `watch` runs
rounds until stopped. A reader knows it talks to a static copy from `v1/registry`'s `static` member
(`crawler_client.static_reads`): it then computes proofs from the tiles and reads snapshot paths.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler_client.audit.http import RegistryHttp
from crawler_client.audit.tiles import HEIGHT, WIDTH, MalformedTile, bundle_path, parse_bundle, tile_path
from crawler_client.errors import KotowariError, UnexpectedAnswer
from keys import merkle

__all__ = ["IMMUTABLE", "MUTABLE", "PARTIAL", "PublishError", "Publisher", "Round"]

IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=60"
MUTABLE = "no-cache"
SNAPSHOT_TYPE = "application/vnd.kotowari.snapshot"
DEFAULT_DELTAS = 16
DEFAULT_MAX_FILES = 2000
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


class PublishError(KotowariError):
    """The tree could not be published: a directory that cannot be written, an answer that does not
    verify. One line; the CLI exits 2."""


@dataclass
class Round:
    """What one round did: the sizes published, the files written, and whether it finished."""

    tree_size: int = 0
    snapshot_size: int = 0
    written: list[str] = field(default_factory=list)
    complete: bool = False
    notes: list[str] = field(default_factory=list)


def _write(path: Path, data: bytes) -> None:
    """Write atomically: a temporary dot-file in the same folder, synced, renamed over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _tiles(tree_size: int) -> Iterator[tuple[int, int, int]]:
    """(level, index, width) of every hash tile of a tree of `tree_size`."""
    level = 0
    while tree_size >> (HEIGHT * level):
        count = tree_size >> (HEIGHT * level)
        for index in range(-(-count // WIDTH)):
            yield level, index, min(WIDTH, count - index * WIDTH)
        level += 1


class Publisher:
    """Copies the reads of the registry at `registry` into `out`; `publish()` runs one bounded round.

    `deltas`: deltas to the new size are published from this many earlier published sizes (a client
    further behind downloads the full snapshot).
    """

    def __init__(
        self,
        registry: str,
        out: Path | str,
        *,
        deltas: int = DEFAULT_DELTAS,
        max_files: int = DEFAULT_MAX_FILES,
        http: RegistryHttp | None = None,
    ) -> None:
        if deltas < 0 or max_files < 1:
            raise ValueError("deltas is at least 0 and max_files at least 1")
        self.http = http or RegistryHttp(registry)
        self.registry = self.http.registry
        self.out = Path(out)
        self.deltas = deltas
        self.max_files = max_files

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ one round

    def publish(self) -> Round:
        """One round: fetch what is new (at most `max_files`), then, if all of it is there, the
        mutable files and the checkpoint last. `complete` is False when the budget ran out first."""
        from crawler_client.verification import VerificationFailed, note_verifier, open_checkpoint
        from registry.snapshot import InvalidSnapshot, read_full

        done = Round()
        info = self.http.json("GET", "/v1/registry")
        try:
            did, origin = str(info["did"]), str(info["log"]["origin"])
            response = self.http.send("GET", "/log/checkpoint")
            note = self.http.core.raw(response).decode("utf-8")
            checkpoint = open_checkpoint(note, note_verifier(did, origin))
        except (KeyError, TypeError, UnicodeDecodeError) as exc:
            raise UnexpectedAnswer(
                f"{self.registry}/v1/registry or /log/checkpoint is malformed: {exc!r}"
            ) from None
        except VerificationFailed as exc:
            raise PublishError(f"{self.registry}/log/checkpoint does not verify: {exc}") from None
        full = self.http.raw("/v1/snapshot")
        try:
            state, _data = read_full(full, registry=did, verify=True)
        except InvalidSnapshot as exc:
            raise PublishError(f"{self.registry}/v1/snapshot does not verify: {exc}") from None
        done.tree_size, done.snapshot_size = checkpoint.size, state.tree_size
        superseded = self._full_tiles_present()
        budget = [self.max_files]
        for size in sorted({checkpoint.size, state.tree_size}):
            if not self._log_files(size, done, budget):
                return done
        self._immutable(f"v1/snapshots/full/{state.tree_size}", full, done)
        if not self._deltas(did, state.tree_size, done, budget):
            return done
        published_info = {
            **info,
            "static": {"tree_size": checkpoint.size, "snapshots": "/v1/snapshots/latest"},
        }
        self._mutable("v1/registry", _json(published_info), done)
        self._mutable("v1/snapshots/latest", _json(self._pointer(state.tree_size)), done)
        self._mutable("_headers", headers_file(self._partial_tiles()).encode(), done)
        self._mutable("_nginx.conf", nginx_snippet(self.out.resolve()).encode(), done)
        self._mutable("log/checkpoint", note.encode("utf-8"), done)  # last: everything it names is there
        self._prune(superseded)
        done.complete = True
        return done

    def watch(self, interval: float, stop: threading.Event, on_round: Callable[[Round], None]) -> None:
        """Publish rounds until `stop` is set: at once while a round leaves work, else every
        `interval` seconds. A failing round (registry down) is reported and retried, not fatal."""
        while not stop.is_set():
            try:
                done = self.publish()
            except (KotowariError, OSError) as exc:
                on_round(Round(notes=[str(exc)]))
                stop.wait(interval)
                continue
            on_round(done)
            if done.complete:
                stop.wait(interval)

    # ------------------------------------------------------------------ the log

    def _log_files(self, size: int, done: Round, budget: list[int]) -> bool:
        """Every hash tile and entry bundle of a tree of `size`, fetching those missing."""
        wanted = [(tile_path(level, index, width), width, False) for level, index, width in _tiles(size)]
        wanted += [
            (bundle_path(index, width), width, True) for level, index, width in _tiles(size) if level == 0
        ]
        for path, width, bundle in wanted:
            target = self.out / path.lstrip("/")
            if target.exists():
                continue
            if budget[0] <= 0:
                done.notes.append(f"more than {self.max_files} files to fetch: the next round continues")
                return False
            budget[0] -= 1
            data = self.http.raw(path)
            try:
                if bundle:
                    parse_bundle(data, width, f"{self.registry}{path}")
                elif len(data) != width * merkle.HASH_SIZE:
                    raise MalformedTile(f"{self.registry}{path} is {len(data)} bytes, not {width * 32}")
            except MalformedTile as exc:
                raise PublishError(str(exc)) from None
            self._immutable(path.lstrip("/"), data, done)
        return True

    def _full_tiles_present(self) -> set[Path]:
        """The folders of partial tiles whose full tile is already published (pruned after this round:
        a reader of the previous checkpoint still finds its partial tiles for one round)."""
        root = self.out / "log" / "tile"
        if not root.is_dir():
            return set()
        return {
            partial for partial in root.rglob("*.p") if partial.is_dir() and partial.with_suffix("").is_file()
        }

    def _partial_tiles(self) -> list[str]:
        root = self.out / "log" / "tile"
        found = [p for p in root.rglob("*") if p.is_file() and p.parent.name.endswith(".p")]
        return sorted("/" + p.relative_to(self.out).as_posix() for p in found)

    def _prune(self, superseded: set[Path]) -> None:
        for folder in superseded:
            for tile in folder.iterdir():
                tile.unlink(missing_ok=True)
            folder.rmdir()

    # ------------------------------------------------------------------ snapshots

    def _published_sizes(self) -> list[int]:
        folder = self.out / "v1" / "snapshots" / "full"
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
        return sorted(int(name) for name in names if _SIZE.fullmatch(name))

    def _deltas(self, did: str, size: int, done: Round, budget: list[int]) -> bool:
        """Deltas to `size` from the last `deltas` sizes published before (and from `size` itself);
        False when the budget ran out first."""
        from registry.snapshot import InvalidSnapshot, read_delta

        earlier = [n for n in self._published_sizes() if n < size][-self.deltas :] if self.deltas else []
        for since in [*earlier, size]:
            name = f"v1/snapshots/delta/{since}-{size}"
            if (self.out / name).exists():
                continue
            if budget[0] <= 0:
                done.notes.append(f"more than {self.max_files} files to fetch: the next round continues")
                return False
            budget[0] -= 1
            raw = self.http.raw(f"/v1/snapshot?since={since}")
            try:
                delta = read_delta(raw, registry=did)
            except InvalidSnapshot as exc:
                raise PublishError(
                    f"{self.registry}/v1/snapshot?since={since} does not verify: {exc}"
                ) from None
            if delta.state.tree_size != size:  # the log grew meanwhile: the next round publishes it
                done.notes.append(f"the log grew past {size} while publishing: deltas follow next round")
                return True
            self._immutable(name, raw, done)
        return True

    def _pointer(self, size: int) -> dict[str, Any]:
        deltas = self.out / "v1" / "snapshots" / "delta"
        sources = sorted(
            int(p.name.split("-")[0])
            for p in deltas.glob(f"*-{size}")
            if _SIZE.fullmatch(p.name.split("-")[0])
        )
        return {
            "tree_size": size,
            "snapshot": f"/v1/snapshots/full/{size}",
            "delta": f"/v1/snapshots/delta/{{since}}-{size}",
            "deltas_from": sources,
        }

    # ------------------------------------------------------------------ files

    def _immutable(self, name: str, data: bytes, done: Round) -> None:
        target = self.out / name
        if target.exists():
            return
        _write(target, data)
        done.written.append(name)

    def _mutable(self, name: str, data: bytes, done: Round) -> None:
        target = self.out / name
        if target.is_file() and target.read_bytes() == data:
            return
        _write(target, data)
        done.written.append(name)


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


# ---------------------------------------------------------------------- cache headers by path

_RULES: list[tuple[str, str, str]] = [
    # (nginx location, cache, content type)
    ("= /log/checkpoint", MUTABLE, "text/plain; charset=utf-8"),
    ("= /v1/registry", MUTABLE, "application/json"),
    ("= /v1/snapshots/latest", MUTABLE, "application/json"),
    (r"~ ^/log/tile/.+\.p/[0-9]+$", PARTIAL, "application/octet-stream"),
    ("/log/tile/", IMMUTABLE, "application/octet-stream"),
    ("/v1/snapshots/full/", IMMUTABLE, SNAPSHOT_TYPE),
    ("/v1/snapshots/delta/", IMMUTABLE, SNAPSHOT_TYPE),
]


def nginx_snippet(root: Path) -> str:
    """Server-level nginx directives serving the tree at `root` with its cache headers and content
    types; `include` it inside a `server { listen …; }` block."""
    directives = [
        "# Generated by `kotowari publish`: include inside a server { } block.",
        f"root {root};",
        "location ~ (^/_|/\\.) { return 404; }  # the sidecars and temporary files",
    ]
    for location, cache, media in _RULES:
        directives.append(
            f'location {location} {{ types {{ }} default_type "{media}"; add_header Cache-Control '
            f'"{cache}" always; add_header Access-Control-Allow-Origin "*" always; }}'
        )
    return "\n".join(directives) + "\n"


def headers_file(partial_tiles: list[str]) -> str:
    """A `_headers` sidecar (Cloudflare Pages / Netlify syntax). Every tile matches `/log/tile/*`; the
    partial ones present are listed by path, detaching the immutable header (`! Cache-Control`)."""
    blocks = [
        ("/log/checkpoint", [f"Cache-Control: {MUTABLE}", "Content-Type: text/plain; charset=utf-8"]),
        ("/v1/registry", [f"Cache-Control: {MUTABLE}", "Content-Type: application/json"]),
        ("/v1/snapshots/latest", [f"Cache-Control: {MUTABLE}", "Content-Type: application/json"]),
        ("/log/tile/*", [f"Cache-Control: {IMMUTABLE}", "Content-Type: application/octet-stream"]),
        ("/v1/snapshots/full/*", [f"Cache-Control: {IMMUTABLE}", f"Content-Type: {SNAPSHOT_TYPE}"]),
        ("/v1/snapshots/delta/*", [f"Cache-Control: {IMMUTABLE}", f"Content-Type: {SNAPSHOT_TYPE}"]),
        *((path, ["! Cache-Control", f"Cache-Control: {PARTIAL}"]) for path in partial_tiles),
    ]
    return "".join(f"{path}\n" + "".join(f"  {line}\n" for line in lines) for path, lines in blocks)
