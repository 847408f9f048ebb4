"""A C2SP tlog-witness (c2sp.org/tlog-witness): cosigns a log's checkpoint only once it is
consistent with the last one it cosigned for that log.

    POST /add-checkpoint              the spec's body: "old <size>", proof lines, blank line, checkpoint
    GET  /{sha256(origin) hex}/checkpoint   the latest cosigned checkpoint (the spec's monitoring API)
    GET  /   and   GET /witness       this witness's cosignature verifier key (not in the spec)

Answers follow the spec: 200 with the cosignature line; 400 for a body that is not the spec's
format or an old size above the checkpoint's; 403 when no signature from the log's key verifies,
or one from its key fails; 404 for an origin it does not witness; 409 with the size it last
cosigned (`text/x.tlog.size`) when `old` is not that size; 422 when the consistency proof does not
verify, a proof is sent from size 0, a same-size checkpoint has another root, or a size-0
checkpoint has a root other than the empty tree's. Refusals are one line of text/plain.

State lives in the data directory: `witness.key` (its Ed25519 key, a 0600 JWK written by
`keys.write_key_file` on first start) and `witness-state.json` (per origin the size, root hash and
cosigned checkpoint note of the latest checkpoint it cosigned, plus the witness's name, fixed at
first start because the cosigned message does not commit to it). The state file is replaced
atomically (temporary file, fsync, rename, fsync of the directory) before a cosignature is
returned; the check against the stored size and the write happen under one lock per origin, so two
racing submissions can never roll the witness back. A state file that cannot be read, or a key
without its state file, stops the witness from starting rather than letting it start over and
cosign a fork. Records of logs no longer configured are kept.

>>> app = create_witness_app(Path("/tmp/w"), {"example.com/log": "example.com/log+…"})  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

import keys
from keys import merkle
from keys.cosignature import CosignatureSigner, cosign
from keys.note import Checkpoint, InvalidCheckpoint, InvalidNote, NoteVerifier, open_note, parse_verifier_key
from registry.identity import load_or_create_registry_key, note_signer

__all__ = [
    "KEY_FILE",
    "MAX_BODY_BYTES",
    "MAX_PROOF_LINES",
    "SIZE_MEDIA_TYPE",
    "STATE_FILE",
    "LogState",
    "Refusal",
    "Witness",
    "WitnessStateError",
    "create_witness_app",
    "default_witness_name",
    "load_or_create_witness_key",
]

KEY_FILE = "witness.key"
STATE_FILE = "witness-state.json"
STATE_FORMAT = "kotowari-witness-state/1"
MAX_BODY_BYTES = 16 * 1024
"""Request bodies above this are refused with 413 (transparency-dev/witness uses the same 16 KiB)."""
MAX_PROOF_LINES = 63
"""The spec: "The client MUST NOT send more than 63 consistency proof lines"."""
SIZE_MEDIA_TYPE = "text/x.tlog.size"
_MAX_TREE_SIZE = 2**64 - 1
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,19})")
_ORIGIN_HASH = re.compile(r"[0-9a-f]{64}")

logger = logging.getLogger("kotowari.witness")


class WitnessStateError(Exception):
    """The witness's data directory holds state it cannot trust: it refuses to start."""


class Refusal(Exception):
    """An add-checkpoint request the witness does not cosign: the HTTP status and one line why.

    `size` is set for 409: the size of the latest checkpoint cosigned for that origin.
    """

    def __init__(self, status: int, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.size = size


@dataclass(frozen=True)
class LogState:
    """The latest checkpoint cosigned for one log: its size, root, and the cosigned note."""

    size: int
    root: bytes
    checkpoint: str


def load_or_create_witness_key(data_dir: Path) -> tuple[keys.SigningKey, bool]:
    """The witness key from `data_dir`, creating it (0600) and the directory (0700) if absent; returns
    the key and whether it was created now."""
    return load_or_create_registry_key(data_dir, KEY_FILE)


def default_witness_name(key: keys.SigningKey) -> str:
    """A key name unique to this witness key, for witnesses not given a --name."""
    return f"kotowari.local/witness/{key.public.multibase[4:20]}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(text: str) -> bytes:
    """Canonical standard base64 only; ValueError otherwise."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("not base64") from None
    if _b64(raw) != text:
        raise ValueError("not canonical base64")
    return raw


def _verifiers(logs: Mapping[str, str | Sequence[str]]) -> dict[str, list[NoteVerifier]]:
    known: dict[str, list[NoteVerifier]] = {}
    for origin, given in logs.items():
        if not isinstance(origin, str) or not origin or "\n" in origin:
            raise ValueError(f"not a log origin: {origin!r}")
        texts = [given] if isinstance(given, str) else list(given)
        if not texts:
            raise ValueError(f"no verifier key for the log {origin}")
        known[origin] = [parse_verifier_key(text) for text in texts]
    return known


def _parse_request(body: bytes) -> tuple[int, list[bytes], str]:
    """Split an add-checkpoint body into old size, proof and checkpoint note; Refusal(400) otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8") from None
    # Proof lines are never empty, so the first blank line ends them; the note has its own later.
    head, blank, note = text.partition("\n\n")
    if not blank:
        raise Refusal(400, "the body has no blank line between the old size and proof and the checkpoint")
    old_line, *proof_lines = head.split("\n")
    match = _OLD_LINE.fullmatch(old_line)
    if match is None or int(match[1]) > _MAX_TREE_SIZE:
        raise Refusal(400, 'the first line must be "old <size>" with a decimal size, no leading zeros')
    if len(proof_lines) > MAX_PROOF_LINES:
        raise Refusal(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof: list[bytes] = []
    for number, line in enumerate(proof_lines, start=2):
        try:
            node = _b64decode(line)
        except ValueError:
            node = b""
        if len(node) != merkle.HASH_SIZE:
            raise Refusal(400, f"line {number} is not a base64 32-byte hash")
        proof.append(node)
    return int(match[1]), proof, note


class Witness:
    """The witness itself, without HTTP: its key, the logs it knows, and their durable state.

    `logs` maps each log origin to the note verifier key (or keys) its checkpoints must be signed
    with; the key name need not be the origin (sum.golang.org signs "go.sum database tree").
    `clock` returns POSIX seconds; cosignatures carry it, truncated to whole seconds.
    """

    def __init__(
        self,
        data_dir: Path,
        logs: Mapping[str, str | Sequence[str]],
        *,
        name: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.logs = _verifiers(logs)
        self.clock = clock
        key, self.key_created = load_or_create_witness_key(self.data_dir)
        self._path = self.data_dir / STATE_FILE
        stored_name, self._state = self._load()
        if stored_name is None and not self.key_created:
            # Starting over with the same key would let it cosign a fork of what it cosigned before.
            raise WitnessStateError(
                f"{self.data_dir} holds a witness key but no {STATE_FILE}: its memory of what it cosigned "
                f"is lost; restore the file, or remove {KEY_FILE} to start a new witness with a new key"
            )
        if stored_name is not None and name is not None and name != stored_name:
            raise WitnessStateError(
                f"this witness was started as {stored_name!r}; its name cannot change to {name!r} "
                "(the cosigned message does not name the witness, so one key serves one name)"
            )
        self.name = stored_name or name or default_witness_name(key)
        self.signer = CosignatureSigner(self.name, note_signer(key, self.name).private_key)
        own = self.signer.verifier.public_key.public_bytes_raw()
        for origin, verifiers in self.logs.items():
            if any(verifier.public_key.public_bytes_raw() == own for verifier in verifiers):
                raise ValueError(f"the witness's own key is configured as a key of the log {origin}")
        self._locks: dict[str, asyncio.Lock] = {}
        self._write_lock: asyncio.Lock | None = None
        if stored_name is None:
            self._write(self._state)  # fix the name at first start

    @property
    def verifier_key(self) -> str:
        """The cosignature verifier key ("<name>+<key ID>+<base64(0x04 || key)>") clients pin."""
        return self.signer.verifier_key

    # ------------------------------------------------------------------ state

    def _load(self) -> tuple[str | None, dict[str, LogState]]:
        try:
            content = self._path.read_bytes()
        except FileNotFoundError:
            return None, {}
        except OSError as exc:
            raise WitnessStateError(f"cannot read {self._path}: {exc.strerror or exc}") from exc
        try:
            data = json.loads(content)
            if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
                raise ValueError(f"not a {STATE_FORMAT} file")
            name = data["name"]
            if not isinstance(name, str) or not name:
                raise ValueError("no witness name")
            state: dict[str, LogState] = {}
            for origin, record in data["logs"].items():
                size, root, checkpoint = record["size"], _b64decode(record["root"]), record["checkpoint"]
                if isinstance(size, bool) or not isinstance(size, int):
                    raise ValueError(f"the stored size of {origin} is not an integer")
                parsed = Checkpoint.parse(checkpoint[: checkpoint.rindex("\n\n") + 1])
                if (parsed.origin, parsed.size, parsed.root_hash) != (origin, size, root):
                    raise ValueError(f"the stored checkpoint of {origin} does not match its size and root")
                state[origin] = LogState(size, root, checkpoint)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WitnessStateError(
                f"{self._path} is not a witness state file this witness wrote: {exc}"
            ) from exc
        return name, state

    def _write(self, state: Mapping[str, LogState]) -> None:
        data = {
            "format": STATE_FORMAT,
            "name": self.name,
            "logs": {
                origin: {"size": record.size, "root": _b64(record.root), "checkpoint": record.checkpoint}
                for origin, record in sorted(state.items())
            },
        }
        content = (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
        temporary = self._path.with_name(f".{STATE_FILE}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        descriptor = os.open(
            temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), 0o600
        )
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        directory = os.open(self.data_dir, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    async def _persist(self, origin: str, record: LogState) -> None:
        """Write the state with `record` for `origin`, then take it in memory."""
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        async with self._write_lock:
            state = {**self._state, origin: record}
            await asyncio.to_thread(self._write, state)
            self._state = state

    def latest(self, origin: str) -> LogState | None:
        """The latest checkpoint cosigned for `origin`, or None if none was."""
        return self._state.get(origin)

    def latest_by_hash(self, origin_hash: str) -> LogState | None:
        """The latest cosigned checkpoint of the log whose origin's SHA-256 is `origin_hash` (hex)."""
        for origin, record in self._state.items():
            if hashlib.sha256(origin.encode("utf-8")).hexdigest() == origin_hash:
                return record
        return None

    # ------------------------------------------------------------------ add-checkpoint

    async def add_checkpoint(self, body: bytes) -> str:
        """Process an add-checkpoint body; return the cosignature line or raise `Refusal`."""
        old, proof, note_text = _parse_request(body)
        origin, newline, _ = note_text.partition("\n")
        if not newline:
            raise Refusal(400, "the checkpoint has no origin line")
        verifiers = self.logs.get(origin)
        if verifiers is None:
            raise Refusal(404, f"unknown log origin {origin!r}")
        try:
            note = open_note(note_text, verifiers)
        except InvalidNote as exc:
            raise Refusal(403, f"no valid signature by the log's key: {exc}") from None
        try:
            checkpoint = Checkpoint.parse(note.text)
        except InvalidCheckpoint as exc:
            raise Refusal(400, f"not a checkpoint: {exc}") from None
        if old > checkpoint.size:
            raise Refusal(400, f"old size {old} is larger than the checkpoint's size {checkpoint.size}")
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            stored = self._state.get(origin)
            known = 0 if stored is None else stored.size
            if old != known:
                raise Refusal(
                    409, f"the latest checkpoint cosigned for {origin} has size {known}", size=known
                )
            try:
                if checkpoint.size == 0 and checkpoint.root_hash != merkle.EMPTY_ROOT:
                    raise merkle.InvalidMerkleProof("a checkpoint of size 0 must have the empty tree's root")
                if old == 0:
                    if proof:
                        raise merkle.InvalidMerkleProof("no consistency proof is sent from size 0")
                else:
                    assert stored is not None
                    merkle.verify_consistency(old, checkpoint.size, stored.root, checkpoint.root_hash, proof)
            except merkle.InvalidMerkleProof as exc:
                logger.warning(
                    "inconsistent checkpoint for %s (cosigned size %d): %s\n%s", origin, known, exc, body
                )
                raise Refusal(422, f"consistency proof does not verify: {exc}") from None
            timestamp = int(self.clock())
            line = cosign(note.text, self.signer, timestamp)
            log_lines = "".join(signature.to_line() for signature in note.signatures)
            record = LogState(checkpoint.size, checkpoint.root_hash, note.text + "\n" + log_lines + line)
            await self._persist(origin, record)
        return line


# ---------------------------------------------------------------------- HTTP


def _refusal(exc: Refusal) -> Response:
    if exc.status == 409:
        # Exactly the spec's media type: Starlette would append "; charset=utf-8" to a text/ type.
        return Response(f"{exc.size}\n", status_code=409, headers={"Content-Type": SIZE_MEDIA_TYPE})
    return PlainTextResponse(exc.message + "\n", status_code=exc.status)


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_witness_app(
    data_dir: Path,
    logs: Mapping[str, str | Sequence[str]],
    *,
    name: str | None = None,
    clock: Callable[[], float] = time.time,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """A witness application over `data_dir` for the logs given (origin -> note verifier key(s)).

    Unlike the registry's factory this one opens the key and state at once (creating the key on
    first use), so a bad data directory fails here and the caller can print the verifier key
    before serving: `app.state.witness.verifier_key`.
    """
    witness = Witness(data_dir, logs, name=name, clock=clock)

    async def add_checkpoint(request: Request) -> Response:
        body = await _read_body(request, max_body_bytes)
        if body is None:
            return PlainTextResponse(f"the body is larger than {max_body_bytes} bytes\n", status_code=413)
        try:
            line = await witness.add_checkpoint(body)
        except Refusal as exc:
            return _refusal(exc)
        return PlainTextResponse(line)

    async def checkpoint(request: Request) -> Response:
        origin_hash = request.path_params["origin_hash"]
        record = witness.latest_by_hash(origin_hash) if _ORIGIN_HASH.fullmatch(origin_hash) else None
        if record is None:
            return PlainTextResponse("no checkpoint cosigned for that log\n", status_code=404)
        return PlainTextResponse(record.checkpoint, headers={"Cache-Control": "no-cache"})

    async def identity(request: Request) -> Response:
        return PlainTextResponse(witness.verifier_key + "\n")

    app = Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/", identity, methods=["GET"]),
            Route("/witness", identity, methods=["GET"]),
            Route("/{origin_hash}/checkpoint", checkpoint, methods=["GET"]),
        ]
    )
    app.state.witness = witness
    return app
