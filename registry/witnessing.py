"""The registry's side of witnessing: submit each new checkpoint to independent C2SP witnesses
(c2sp.org/tlog-witness) and keep the checkpoint they cosigned, so a split view cannot go unnoticed.

`WitnessClient` speaks add-checkpoint to one witness: it sends the old size it believes the
witness holds and the consistency proof from there, and when the witness answers 409 with the size
it really holds it retries once from that size. `Witnessing` submits a checkpoint to every
configured witness concurrently, each within a timeout, keeps the newest checkpoint note with the
cosignature lines it collected (the log's signature and the witnesses' in one note), and records
per witness what happened: the size it last cosigned, the last error, and whether it ever refused a
checkpoint as inconsistent with one it had cosigned (evidence of a fork or a rollback: the flag
stays up).

Witnesses are advisory for the registry itself: a witness that is down or refuses never stops
filing, it only shows in `status()`. The registry never cosigns for itself: a witness whose key is
the log's key is refused at configuration, and only lines that verify under a configured
witness's key are kept.

    WitnessError                base; `witness` names it, `witness_size` is its size if it said
    ├── WitnessUnavailable      no answer in time, a transport error, 5xx, 429, an unknown status
    ├── WitnessRefused          400/403/404/409/422; `inconsistent` for a fork or a rollback
    └── InvalidWitnessAnswer    a 200 whose body is not a cosignature by the witness's key

Wiring (the registry's application does this):

    witnessing = Witnessing(log, [WitnessClient(url, vkey) for url, vkey in configured])
    await witnessing.submit()                       # at start: fresh cosignatures on the head
    witnessing.submit_in_background(note)           # after each new checkpoint; never blocks filing
    await witnessing.cosigned_checkpoint()          # what /log/checkpoint serves
    witnessing.status()                             # what the checkpoint status reports
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from keys.cosignature import (
    CosignatureVerifier,
    cosignature_timestamp,
    parse_cosignature_verifier_key,
    verify_cosignature,
)
from keys.note import Checkpoint, InvalidCheckpoint, InvalidNote, NoteVerifier, open_note, parse_verifier_key

__all__ = [
    "ConsistencyProof",
    "InvalidWitnessAnswer",
    "WitnessClient",
    "WitnessError",
    "WitnessRefused",
    "WitnessStatus",
    "WitnessUnavailable",
    "WitnessedLog",
    "Witnessing",
]

ConsistencyProof = Callable[[int, int], Awaitable[Sequence[bytes]]]
"""`consistency_proof(first, second)`: the log's proof that tree `second` extends tree `first`."""

SIZE_MEDIA_TYPE = "text/x.tlog.size"
_SIZE_BODY = re.compile(r"(0|[1-9][0-9]{0,19})\n")
_MAX_ANSWER_BYTES = 64 * 1024

logger = logging.getLogger("kotowari.witnessing")


class WitnessedLog(Protocol):
    """What witnessing needs of a log; `registry.log.TransparencyLog` is one."""

    origin: str

    @property
    def verifier_key(self) -> str:
        """The log's note verifier key."""
        ...

    async def consistency_proof(self, first: int, second: int) -> Sequence[bytes]:
        """The proof that the tree of size `second` extends the one of size `first`."""
        ...

    async def latest_checkpoint(self) -> str:
        """The log's newest signed checkpoint note."""
        ...


class WitnessError(Exception):
    """A witness did not cosign; `witness` names it and `witness_size` is its size, if it said."""

    def __init__(self, witness: str, message: str, *, witness_size: int | None = None) -> None:
        super().__init__(f"witness {witness}: {message}")
        self.witness = witness
        self.witness_size = witness_size


class WitnessUnavailable(WitnessError):
    """No usable answer: unreachable, timed out, a server error, pushback or an unexpected status."""


class WitnessRefused(WitnessError):
    """The witness answered that it will not cosign this checkpoint (400, 403, 404, 409, 422).

    `inconsistent` is true when the refusal means the witness holds a view of the log this checkpoint
    does not extend: a bad consistency proof or another root at the same size (422), or a witness
    that has cosigned a larger tree than this one (a rollback). `status` is the HTTP status, or
    None when the client refused to send (the witness is known to hold a larger tree).
    """

    def __init__(
        self,
        witness: str,
        status: int | None,
        message: str,
        *,
        inconsistent: bool = False,
        witness_size: int | None = None,
    ) -> None:
        super().__init__(witness, message, witness_size=witness_size)
        self.status = status
        self.inconsistent = inconsistent


class InvalidWitnessAnswer(WitnessError):
    """A 200 whose body is not signature lines carrying a valid cosignature by the witness's key."""


def _reason(response: httpx.Response) -> str:
    text = response.text.strip().splitlines()
    return f"{response.status_code}: {text[0][:200]}" if text else str(response.status_code)


class WitnessClient:
    """One witness: its submission URL prefix and its cosignature verifier key.

    `client` lets the caller share a connection pool (keep-alive, as the spec asks) or pass a
    transport in tests; otherwise the witness gets its own client, closed by `aclose`.
    """

    def __init__(
        self,
        url: str,
        verifier_key: str | CosignatureVerifier,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.verifier = (
            verifier_key
            if isinstance(verifier_key, CosignatureVerifier)
            else parse_cosignature_verifier_key(verifier_key)
        )
        self._own_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=timeout)

    @property
    def name(self) -> str:
        """The witness's key name."""
        return self.verifier.name

    async def aclose(self) -> None:
        """Close the HTTP client if this witness made its own."""
        if self._own_client:
            await self._client.aclose()

    async def add_checkpoint(self, checkpoint_note: str, old_size: int, proof: Sequence[bytes]) -> str:
        """One add-checkpoint request; the verified cosignature line, or a `WitnessError`.

        A 409 raises `WitnessRefused` with `witness_size` set to the size the witness holds.
        """
        body = f"old {old_size}\n" + "".join(base64.b64encode(node).decode() + "\n" for node in proof)
        body += "\n" + checkpoint_note
        try:
            response = await self._client.post(
                f"{self.url}/add-checkpoint",
                content=body.encode("utf-8"),
                headers={"Content-Type": "text/plain; charset=utf-8"},
            )
        except httpx.HTTPError as exc:
            raise WitnessUnavailable(self.name, f"unreachable: {type(exc).__name__}: {exc}") from exc
        if len(response.content) > _MAX_ANSWER_BYTES:
            raise InvalidWitnessAnswer(self.name, "answer is too large")
        status = response.status_code
        if status == 200:
            return self._cosignature(checkpoint_note, response.text)
        if status == 409:
            size = _SIZE_BODY.fullmatch(response.text)
            if (
                size is None
                or response.headers.get("content-type", "").split(";")[0].strip() != SIZE_MEDIA_TYPE
            ):
                raise InvalidWitnessAnswer(self.name, "409 without a text/x.tlog.size body")
            raise WitnessRefused(
                self.name, 409, f"holds size {size[1]}, not {old_size}", witness_size=int(size[1])
            )
        if status == 422:
            raise WitnessRefused(
                self.name,
                422,
                f"refuses the checkpoint as inconsistent ({_reason(response)})",
                inconsistent=True,
            )
        if status in (400, 403, 404):
            what = {400: "bad request", 403: "the log's signature", 404: "unknown log"}[status]
            raise WitnessRefused(self.name, status, f"refused: {what} ({_reason(response)})")
        raise WitnessUnavailable(self.name, f"answered {_reason(response)}")

    def _cosignature(self, checkpoint_note: str, answer: str) -> str:
        lines = answer.splitlines(keepends=True)
        if not lines or any(not line.startswith("— ") or not line.endswith("\n") for line in lines):
            raise InvalidWitnessAnswer(self.name, "200 whose body is not note signature lines")
        try:
            timestamp = verify_cosignature(checkpoint_note + answer, self.verifier)
        except InvalidNote as exc:
            raise InvalidWitnessAnswer(self.name, f"no valid cosignature: {exc}") from None
        if timestamp == 0:  # tlog-witness: "the timestamp MUST NOT be zero"
            raise InvalidWitnessAnswer(self.name, "cosignature without a timestamp")
        prefix = f"— {self.verifier.name} "
        for line in lines:
            if line.startswith(prefix) and _line_key_id(line) == self.verifier.key_id:
                return line
        raise InvalidWitnessAnswer(self.name, "no cosignature line by its key")  # pragma: no cover

    async def submit(self, checkpoint_note: str, old_size: int, consistency_proof: ConsistencyProof) -> str:
        """Submit `checkpoint_note` from `old_size`; on 409 retry once from the witness's size.

        Returns the cosignature line (verified). Raises `WitnessRefused` with `inconsistent` set when
        the witness holds a larger tree than this checkpoint (no retry: nothing can prove a
        shrinking log consistent) or rejects the proof; other failures as `WitnessError`s.
        """
        try:
            size = Checkpoint.parse(_text(checkpoint_note)).size
        except ValueError as exc:
            raise ValueError(f"not a signed checkpoint note: {exc}") from None
        if old_size > size:
            raise WitnessRefused(
                self.name,
                None,
                f"has cosigned size {old_size}, larger than this checkpoint's {size}: a rollback",
                inconsistent=True,
                witness_size=old_size,
            )
        try:
            return await self.add_checkpoint(
                checkpoint_note, old_size, await consistency_proof(old_size, size)
            )
        except WitnessRefused as exc:
            if exc.status != 409 or exc.witness_size is None:
                raise
            held = exc.witness_size
        if held > size:
            raise WitnessRefused(
                self.name,
                409,
                f"has cosigned size {held}, larger than this checkpoint's {size}: a rollback or a fork",
                inconsistent=True,
                witness_size=held,
            )
        try:
            return await self.add_checkpoint(checkpoint_note, held, await consistency_proof(held, size))
        except WitnessError as exc:
            if exc.witness_size is None:
                exc.witness_size = held
            raise


def _text(note: str) -> str:
    """The text of a signed note (before the last blank line), unverified."""
    split = note.rfind("\n\n")
    if split < 0:
        raise ValueError("no blank line before the signatures")
    return note[: split + 1]


def _line_key_id(line: str) -> int | None:
    _, _, b64 = line.rstrip("\n").partition(" ")[2].partition(" ")
    try:
        payload = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        return None
    return int.from_bytes(payload[:4], "big") if len(payload) >= 4 else None


@dataclass
class WitnessStatus:
    """What the registry knows of one witness, for its checkpoint status."""

    name: str
    url: str
    verifier_key: str
    cosigned_size: int | None = None
    """The size of the latest checkpoint it cosigned for this registry (None: none yet)."""
    cosigned_at: int | None = None
    """That cosignature's timestamp (POSIX seconds, the witness's clock)."""
    witness_size: int = 0
    """The size we believe the witness holds: the `old` of the next submission."""
    last_error: str | None = None
    last_error_at: float | None = None
    refused_inconsistent: bool = False
    """Set once the witness refuses a checkpoint as inconsistent with one it cosigned; stays set."""
    inconsistency: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "verifier_key": self.verifier_key,
            "cosigned_size": self.cosigned_size,
            "cosigned_at": self.cosigned_at,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "refused_inconsistent": self.refused_inconsistent,
            "inconsistency": self.inconsistency,
        }


@dataclass
class _Cosigned:
    """One checkpoint note and the cosignature lines collected for it, by witness name."""

    note: str
    checkpoint: Checkpoint
    lines: dict[str, str] = field(default_factory=dict)

    def text(self, order: Sequence[str]) -> str:
        return self.note + "".join(self.lines[name] for name in order if name in self.lines)


_LATEST = object()


class Witnessing:
    """Submits the log's checkpoints to its witnesses and keeps the cosigned checkpoint.

    `quorum` is how many cosignatures make a checkpoint the one `cosigned_checkpoint` serves: the
    newest checkpoint cosigned by at least `quorum` witnesses; until one is, the newest submitted
    with what it has; before any submission, the log's latest checkpoint. `timeout` bounds each
    witness's whole submission (a 409 retry included). `clock` (POSIX seconds) dates errors.
    """

    def __init__(
        self,
        log: WitnessedLog,
        witnesses: Sequence[WitnessClient],
        *,
        quorum: int = 1,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.log = log
        self.witnesses = list(witnesses)
        self.timeout = timeout
        self.clock = clock
        self._log_verifier: NoteVerifier = parse_verifier_key(log.verifier_key)
        own = self._log_verifier.public_key.public_bytes_raw()
        names = [witness.name for witness in self.witnesses]
        if len(set(names)) != len(names):
            raise ValueError("two witnesses share a name")
        for witness in self.witnesses:
            if witness.verifier.public_key.public_bytes_raw() == own:
                raise ValueError(
                    f"witness {witness.name} has the log's own key: the registry never cosigns itself"
                )
        if isinstance(quorum, bool) or not isinstance(quorum, int) or not 1 <= quorum <= max(1, len(names)):
            raise ValueError(f"quorum must be 1 to {max(1, len(names))}, not {quorum!r}")
        self.quorum = quorum
        self._names = names
        self._status = {
            witness.name: WitnessStatus(witness.name, witness.url, witness.verifier.verifier_key)
            for witness in self.witnesses
        }
        self._locks = {name: asyncio.Lock() for name in names}
        self._latest: _Cosigned | None = None
        self._served: _Cosigned | None = None
        self._pending: object = None
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ submitting

    async def submit(self, checkpoint_note: str | None = None) -> dict[str, WitnessStatus]:
        """Submit a checkpoint (default: the log's latest) to every witness at once; never raises
        for a witness's failure, which lands in its status. Returns the statuses.

        Raises `InvalidNote` if the note is not a checkpoint of this log signed by its key.
        """
        note = checkpoint_note if checkpoint_note is not None else await self.log.latest_checkpoint()
        opened = open_note(note, [self._log_verifier])
        try:
            checkpoint = Checkpoint.parse(opened.text)
        except InvalidCheckpoint as exc:
            raise InvalidNote(f"not a checkpoint: {exc}") from None
        if checkpoint.origin != self.log.origin:
            raise InvalidNote(f"checkpoint of {checkpoint.origin!r}, not of this log ({self.log.origin!r})")
        record = self._record(note, checkpoint)
        await asyncio.gather(*(self._submit_one(witness, record) for witness in self.witnesses))
        if len(record.lines) >= self.quorum and (
            self._served is None or record.checkpoint.size >= self._served.checkpoint.size
        ):
            self._served = record
        return dict(self._status)

    def _record(self, note: str, checkpoint: Checkpoint) -> _Cosigned:
        for known in (self._latest, self._served):
            if known is not None and known.note == note:
                return known
        record = _Cosigned(note, checkpoint)
        if self._latest is None or checkpoint.size >= self._latest.checkpoint.size:
            self._latest = record
        return record

    async def _submit_one(self, witness: WitnessClient, record: _Cosigned) -> None:
        status = self._status[witness.name]
        size = record.checkpoint.size
        async with self._locks[witness.name]:
            if status.cosigned_size is not None and status.cosigned_size > size:
                return  # it already cosigned a newer checkpoint of ours; this one is stale
            if witness.name in record.lines:
                return
            try:
                async with asyncio.timeout(self.timeout):
                    line = await witness.submit(record.note, status.witness_size, self.log.consistency_proof)
            except TimeoutError:
                self._failed(status, f"no answer within {self.timeout:g} s")
            except WitnessError as exc:
                if exc.witness_size is not None:
                    status.witness_size = exc.witness_size
                self._failed(status, str(exc))
                if isinstance(exc, WitnessRefused) and exc.inconsistent:
                    status.refused_inconsistent = True
                    status.inconsistency = f"at size {size}: {exc}"
                    logger.warning(
                        "witness refused checkpoint %d of %s as inconsistent: %s", size, self.log.origin, exc
                    )
            except Exception as exc:  # the log or the network failed oddly: witnessing must not stop filing
                logger.exception("submitting checkpoint %d to witness %s failed", size, witness.name)
                self._failed(status, f"{type(exc).__name__}: {exc}")
            else:
                record.lines[witness.name] = line
                status.cosigned_size = status.witness_size = size
                status.cosigned_at = cosignature_timestamp(line)
                status.last_error = status.last_error_at = None

    def _failed(self, status: WitnessStatus, message: str) -> None:
        status.last_error = message
        status.last_error_at = self.clock()

    def submit_in_background(self, checkpoint_note: str | None = None) -> None:
        """Schedule a submission and return at once; bursts coalesce into the newest checkpoint.

        Call it from a running event loop (the registry's), after each new checkpoint.
        """
        self._pending = _LATEST if checkpoint_note is None else checkpoint_note
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending is not None:
            pending, self._pending = self._pending, None
            try:
                await self.submit(None if pending is _LATEST else str(pending))
            except Exception:
                logger.exception("witnessing a checkpoint of %s failed", self.log.origin)

    async def wait(self) -> None:
        """Wait for background submissions to finish (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def aclose(self) -> None:
        """Finish background submissions and close the witnesses' HTTP clients."""
        await self.wait()
        for witness in self.witnesses:
            await witness.aclose()

    # ------------------------------------------------------------------ serving

    async def cosigned_checkpoint(self) -> str:
        """The checkpoint to serve: the log's signature and the witnesses' cosignatures, one note.

        The newest checkpoint with at least `quorum` cosignatures; else the newest submitted with the
        cosignatures it has; else (nothing submitted yet) the log's latest checkpoint.
        """
        chosen = self._served or self._latest
        if chosen is None:
            return await self.log.latest_checkpoint()
        return chosen.text(self._names)

    def status(self) -> dict[str, Any]:
        """Witnessing as JSON: the cosigned size, who cosigned it, and each witness's status."""
        chosen = self._served or self._latest
        return {
            "origin": self.log.origin,
            "quorum": self.quorum,
            "cosigned_size": None if chosen is None else chosen.checkpoint.size,
            "cosigned_by": [] if chosen is None else [name for name in self._names if name in chosen.lines],
            "latest_submitted_size": None if self._latest is None else self._latest.checkpoint.size,
            "quorum_met": chosen is not None and len(chosen.lines) >= self.quorum,
            "witnesses": [self._status[name].as_dict() for name in self._names],
        }
