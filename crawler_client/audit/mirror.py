"""The log side of an audit: the registry's identity and checkpoints, the mirror, its root, hash
tiles and consistency proofs, and the replay of every entry (see `crawler_client.audit`)."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from crawler_client.audit.http import RegistryHttp
from crawler_client.audit.replay import Replay
from crawler_client.audit.report import AuditError, AuditReport, Discrepancy, Stopped
from crawler_client.audit.state import AuditState, Pin, StateDir
from crawler_client.audit.tiles import (
    WIDTH,
    MalformedTile,
    Tree,
    bundle_path,
    changed_tiles,
    parse_bundle,
    tile_path,
)
from crawler_client.static_reads import looks_static
from crawler_client.tile_proofs import consistency_proof, run_with
from crawler_client.verification import VerificationFailed, note_verifier
from keys import merkle
from keys.cosignature import CosignatureVerifier, InvalidCosignature, verify_cosigned
from keys.note import (
    Checkpoint,
    InvalidCheckpoint,
    InvalidNote,
    InvalidNoteKey,
    open_note,
    parse_verifier_key,
    verifier_key,
)
from registry.documents import format_timestamp

__all__ = ["MAX_CATCH_UPS", "Mirror", "Progress"]

MAX_CATCH_UPS = 3
"""How often an audit follows a log that grows under it before it stops comparing at newer sizes."""

MAX_PER_TILE = 3
"""Differing hashes named per hash tile (the rest are counted)."""

Progress = Callable[[str, int, int], None]
"""`progress(stage, done, total)`: called as the audit advances (stages: mirror, tiles, claims, checks)."""


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class Mirror:
    """The registry's log as the audit holds it: pinned identity, the mirrored and verified entries
    (`tree`, `replay`), and the checkpoint they were last checked against (`state`).

    `open()` loads what earlier audits mirrored (re-hashing and replaying it) and checks the current
    checkpoint against it; `extend()` mirrors up to a checkpoint; `catch_up()` follows a growing log.
    """

    def __init__(
        self,
        http: RegistryHttp,
        files: StateDir,
        report: AuditReport,
        *,
        full: bool,
        witnesses: Sequence[CosignatureVerifier],
        min_cosignatures: int,
        now: Callable[[], datetime],
        progress: Progress,
    ) -> None:
        self.http = http
        self.files = files
        self.report = report
        self.full = full
        self.witnesses = list(witnesses)
        self.min_cosignatures = min_cosignatures
        self._now = now
        self._progress = progress
        self.tree = Tree()
        self.replay = Replay(registry_did="")
        self.state = AuditState()
        self.pin = Pin("", "", "")
        self.spaces: dict[str, int] | None = None
        self.max_items = 100
        self.max_body = 1 << 20
        self.static = False  # a static copy (`kotowari publish`): proofs come from its tiles
        self._catch_ups = 0
        self._opened = False

    def open(self) -> tuple[str, Checkpoint]:
        """Pin the identity, fetch the checkpoint, check it against the last audit and reload the
        mirror; returns the checkpoint (note text and parsed) to `extend` to."""
        report = self.report
        state = self.state = self.files.load()
        self.pin = self.identity(state.pin)
        report.previous_size = state.size
        note, checkpoint = self.checkpoint()
        if checkpoint.size < state.size:
            raise Stopped(
                Discrepancy(
                    "rollback",
                    f"the registry's checkpoint has {checkpoint.size} entries, fewer than the "
                    f"{state.size} of the checkpoint audited before: the log was rolled back",
                )
            )
        if checkpoint.size == state.size and checkpoint.root_hash != state.root_hash:
            if state.pin is None:  # nothing audited before: an empty log with a root of something
                raise Stopped(
                    Discrepancy(
                        "entries",
                        f"the checkpoint of the empty log has root {b64(checkpoint.root_hash)}, "
                        "not the hash of nothing",
                    )
                )
            raise Stopped(self._fork(checkpoint, state))
        replay = self.replay = Replay(
            registry_did=self.pin.did,
            spaces=self.spaces,
            verified_below=0 if self.full else state.signatures_verified,
        )
        self._opened = True
        for index, entry in enumerate(self.files.entries(state)):
            self.tree.append(merkle.leaf_hash(entry))
            replay.feed(index, entry)
        if self.tree.size != state.size or self.tree.root(state.size) != state.root_hash:
            raise AuditError(
                f"the mirror in {self.files.path} no longer hashes to the checkpoint audited at size "
                f"{state.size}: its files were changed"
            )
        return note, checkpoint

    @property
    def opened(self) -> bool:
        """Whether entries were replayed (so the replay's findings belong in the report)."""
        return self._opened

    # ------------------------------------------------------------------ identity and checkpoints

    def identity(self, pinned: Pin | None) -> Pin:
        info = self.http.json("GET", "/v1/registry")
        try:
            did, origin, published = (
                str(info["did"]),
                str(info["log"]["origin"]),
                str(info["log"]["note_verifier_key"]),
            )
            self.static = isinstance(info.get("static"), dict)
            spaces = info.get("embedding_spaces")
            self.spaces = {str(k): int(v) for k, v in spaces.items()} if isinstance(spaces, dict) else None
            limits = info.get("limits") or {}
            self.max_items = max(1, int(limits.get("max_check_items", 100)))
            self.max_body = max(1024, int(limits.get("max_body_bytes", 1 << 20)))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise AuditError(f"{self.http.registry}/v1/registry is malformed: {exc!r}") from None
        report = self.report
        report.did, report.origin = did, origin
        try:
            verifier = note_verifier(did, origin)
        except VerificationFailed as exc:
            raise Stopped(Discrepancy("identity", str(exc))) from None
        if published != verifier_key(origin, verifier.public_key):
            raise Stopped(
                Discrepancy(
                    "identity", f"the registry publishes note key {published}, which is not its DID's key"
                )
            )
        pin = Pin(did, origin, published)
        if pinned is not None and pinned != pin:
            raise Stopped(
                Discrepancy(
                    "identity",
                    f"the registry's identity changed: pinned in {self.files.path} as {pinned.did} "
                    f"({pinned.origin}, note key {pinned.note_verifier_key}), "
                    f"now {did} ({origin}, note key {published})",
                )
            )
        return pin

    def checkpoint(self) -> tuple[str, Checkpoint]:
        response = self.http.send("GET", "/log/checkpoint")
        self.http.core.raise_for_status(response)
        try:
            verifier = parse_verifier_key(self.pin.note_verifier_key)
            note = open_note(response.content, [verifier])
            checkpoint = Checkpoint.parse(note.text)
            if self.witnesses:
                self.report.witnessed_by = verify_cosigned(
                    response.content, verifier, self.witnesses, self.min_cosignatures
                )
        except InvalidCosignature as exc:
            raise Stopped(
                Discrepancy("witness", f"the checkpoint is not witnessed as required: {exc}")
            ) from None
        except InvalidNote as exc:
            if str(exc).startswith("malformed"):
                raise AuditError(f"{self.http.registry}/log/checkpoint is not a signed note: {exc}") from None
            raise Stopped(
                Discrepancy(
                    "checkpoint",
                    f"the checkpoint is not signed by the registry's note key pinned in "
                    f"{self.files.path}: {exc}",
                )
            ) from None
        except (InvalidCheckpoint, InvalidNoteKey) as exc:
            raise AuditError(f"{self.http.registry}/log/checkpoint is not a checkpoint: {exc}") from None
        if checkpoint.origin != self.pin.origin:
            raise Stopped(
                Discrepancy(
                    "checkpoint", f"the checkpoint is for log {checkpoint.origin!r}, not {self.pin.origin!r}"
                )
            )
        self.report.tree_size, self.report.root_hash = checkpoint.size, b64(checkpoint.root_hash)
        return response.text, checkpoint

    def _fork(self, checkpoint: Checkpoint, state: AuditState) -> Discrepancy:
        return Discrepancy(
            "fork",
            f"the registry signed two different trees of size {checkpoint.size}: root "
            f"{b64(checkpoint.root_hash)} now, {b64(state.root_hash)} when audited before",
        )

    # ------------------------------------------------------------------ mirroring

    def extend(self, note: str, checkpoint: Checkpoint) -> AuditState:
        """Mirror, hash, verify and replay the entries from the mirrored size up to `checkpoint`;
        check the root, the hash tiles and the registry's consistency proof; commit the mirror."""
        state, report = self.state, self.report
        old, new = state.size, checkpoint.size
        if new == old:
            if state.pin is None:  # an empty log: pin its identity all the same
                state = replace(
                    state, pin=self.pin, checkpoint=note, audited_at=format_timestamp(self._now())
                )
                self.files.commit(state, b"")
            return state
        tail = self.files.tail_entries(state) if old % WIDTH else []
        new_tail, appended = b"", 0
        bundles = range(old // WIDTH, -(-new // WIDTH))
        for number, bundle in enumerate(bundles):
            width = min(WIDTH, new - bundle * WIDTH)
            path = bundle_path(bundle, width)
            data = self.http.raw(path)
            report.bundles_fetched += 1
            try:
                entries = parse_bundle(data, width, f"{self.http.registry}{path}")
            except MalformedTile as exc:
                raise AuditError(str(exc)) from None
            start = bundle * WIDTH
            known = tail if bundle == old // WIDTH else []
            for offset, before in enumerate(known):
                if entries[offset] != before:
                    raise Stopped(
                        Discrepancy(
                            "fork",
                            f"log entry {start + offset} is not the entry audited before at size {old}: "
                            "the registry rewrote its log",
                            start + offset,
                        )
                    )
            for offset in range(len(known), width):
                self.tree.append(merkle.leaf_hash(entries[offset]))
                self.replay.feed(start + offset, entries[offset])
            if width == WIDTH:
                self.files.append_bundle(state, data)
                appended += len(data)
            else:
                new_tail = data
            self._progress("mirror", number + 1, len(bundles))
        found = self._check_root(checkpoint, old)
        found += self._check_tiles(old, new)
        found += self._check_consistency(state, checkpoint)
        if found:
            self.files.discard()
            raise Stopped(*found)
        first_bad = self.replay.first_bad
        verified = new if first_bad is None else min(first_bad, new)
        state = replace(
            state,
            pin=self.pin,
            size=new,
            root_hash=checkpoint.root_hash,
            checkpoint=note,
            bundles=new // WIDTH,
            entries_bytes=state.entries_bytes + appended,
            signatures_verified=verified,
            audited_at=format_timestamp(self._now()),
        )
        self.files.commit(state, new_tail)
        report.entries = self.tree.size
        return state

    def _check_root(self, checkpoint: Checkpoint, old: int) -> list[Discrepancy]:
        if self.tree.root(checkpoint.size) == checkpoint.root_hash:
            return []
        # Which entries? The level-0 tiles hold the leaf hashes the registry committed to.
        served = Tree()
        for index, width in changed_tiles(0, 0, checkpoint.size):
            try:
                data = self._tile(0, index, width)
            except AuditError:
                break
            for offset in range(width):
                served.append(data[offset * 32 : offset * 32 + 32])
        found = [
            Discrepancy("entries", "the entries served do not hash to the root of the signed checkpoint")
        ]
        if served.size != checkpoint.size:
            return found
        differing = [n for n in range(checkpoint.size) if served.leaf(n) != self.tree.leaf(n)]
        if differing and served.root(checkpoint.size) == checkpoint.root_hash:
            for n in differing[: MAX_PER_TILE * 10]:
                if n < old:
                    found.append(
                        Discrepancy("fork", f"log entry {n} changed since it was audited at size {old}", n)
                    )
                else:
                    found.append(
                        Discrepancy(
                            "entries",
                            f"log entry {n}: the bytes served do not hash to the leaf its hash tile and "
                            "signed checkpoint commit to",
                            n,
                        )
                    )
        elif differing:
            found.append(
                Discrepancy("tile", "the hash tiles do not hash to the signed checkpoint's root either")
            )
        return found

    def _tile(self, level: int, index: int, width: int) -> bytes:
        path = tile_path(level, index, width)
        data = self.http.raw(path)
        self.report.tiles_fetched += 1
        if len(data) != width * merkle.HASH_SIZE:
            raise AuditError(
                f"{self.http.registry}{path} is {len(data)} bytes, "
                f"not the {width * merkle.HASH_SIZE} of {width} hashes"
            )
        return data

    def _check_tiles(self, old: int, new: int) -> list[Discrepancy]:
        """Every hash tile new (or grown) since `old` must be what the entries imply."""
        found: list[Discrepancy] = []
        wanted = [
            (level, index, width)
            for level in range(8)
            if new >> (8 * level)
            for index, width in changed_tiles(level, old, new)
        ]
        for number, (level, index, width) in enumerate(wanted):
            data = self._tile(level, index, width)
            implied = self.tree.tile(level, index, width)
            if data != implied:
                wrong = [
                    k for k in range(width) if data[k * 32 : k * 32 + 32] != implied[k * 32 : k * 32 + 32]
                ]
                more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
                found.append(
                    Discrepancy(
                        "tile",
                        f"hash tile {tile_path(level, index, width).removeprefix('/log/tile/')}: "
                        f"hash {wrong[0]}{more} is not what the log entries imply",
                        (index * WIDTH + wrong[0]) << (8 * level),
                    )
                )
            self._progress("tiles", number + 1, len(wanted))
        return found

    def _check_consistency(self, state: AuditState, checkpoint: Checkpoint) -> list[Discrepancy]:
        if not 0 < state.size < checkpoint.size:
            return []
        try:
            proof = self._consistency_proof(state.size, checkpoint.size)
            merkle.verify_consistency(
                state.size, checkpoint.size, state.root_hash, checkpoint.root_hash, proof
            )
        except (KeyError, TypeError, binascii.Error, merkle.InvalidMerkleProof) as exc:
            whose = (
                "the consistency proof its tiles give" if self.static else "the registry's consistency proof"
            )
            return [
                Discrepancy(
                    "proof", f"{whose} from size {state.size} to {checkpoint.size} does not verify: {exc}"
                )
            ]
        return []

    def _consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The registry's proof; from a static copy (or a 404 that is not the registry's), the one
        its hash tiles give (`crawler_client.tile_proofs`)."""
        if not self.static:
            params = {"first": first, "second": second}
            response = self.http.send("GET", "/v1/log/proof/consistency", params=params)
            self.static = looks_static(response)
            if not self.static:
                answer = self.http.core.json_object(response)
                return [base64.b64decode(str(node), validate=True) for node in answer["consistency_proof"]]
        try:
            return run_with(consistency_proof(first, second), self.http.raw)
        except MalformedTile as exc:
            raise AuditError(str(exc)) from None

    def catch_up(self) -> bool | None:
        """The log grew under the audit? Mirror and replay up to the newest checkpoint: True if it
        grew, False if it did not, None when the audit has followed it often enough already."""
        if self._catch_ups >= MAX_CATCH_UPS:
            return None
        note, checkpoint = self.checkpoint()
        if checkpoint.size < self.state.size:
            raise Stopped(
                Discrepancy(
                    "rollback",
                    f"during the audit the registry's checkpoint went back from {self.state.size} "
                    f"to {checkpoint.size} entries",
                )
            )
        if checkpoint.size == self.state.size:
            if checkpoint.root_hash != self.state.root_hash:
                raise Stopped(self._fork(checkpoint, self.state))
            return False
        self._catch_ups += 1
        grown_from = self.state.size
        started = time.perf_counter()
        self.state = self.extend(note, checkpoint)
        self.report.seconds["log"] = self.report.seconds.get("log", 0.0) + time.perf_counter() - started
        self.report.notes.append(
            f"the log grew from {grown_from} to {checkpoint.size} entries during the audit"
        )
        return True
