"""The receipts file of `kotowari claim import`: what was filed, so that a re-run files nothing twice.

JSON lines, one per filed row: `line` (in the import file), `ref` (the importer's own, if given),
`row` (the digest of what the row says), `registry` (its DID), then the verified receipt (`id`,
`received_at`, `keys`, `log`) and the signed `document`, so each line is also evidence on its own.
Lines are only ever appended, each batch flushed to disk before the next is sent. A run holds an
exclusive lock on the file, so two imports cannot interleave.

Beside it, `PATH.pending` holds the signed claims of the batches in flight, written before they are
sent. When a run dies with batches in flight, the next run asks the registry for each of them by id
(a claim's id is the hash of its signed form): those that went in are recorded with
`"recovered": true` and the registry's `log_index` (a receipt without the inclusion proof), and the
rest are filed again.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from crawler_client.cli_support import UsageError, os_reason
from crawler_client.i18n import _

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, one import at a time is then on the user
    fcntl = None  # type: ignore[assignment]

__all__ = ["ReceiptsFile"]

_DIGEST = re.compile(r"[0-9a-f]{64}")


class ReceiptsFile:
    """An open, locked receipts file; `filed` maps each row digest to (line, claim id)."""

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path = path
        self.pending = Path(str(path) + ".pending")
        self._handle = handle
        self.filed: dict[str, tuple[int, str]] = {}
        self.registries: set[str] = set()
        self._held: dict[int | None, list[str]] = {}  # batches in flight: their `.pending` lines

    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[ReceiptsFile]:
        try:
            handle = open(path, "a+b")  # noqa: SIM115 - held for the whole run, closed below
        except OSError as exc:
            raise UsageError(
                _("--receipts {path}: {reason}").format(path=path, reason=os_reason(exc))
            ) from None
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    message = _("--receipts {path}: another import is using it; wait for it to end")
                    raise UsageError(message.format(path=path)) from None
            receipts = cls(path, handle)
            receipts._load()
            yield receipts
        finally:
            handle.close()

    def _load(self) -> None:
        self._handle.seek(0)
        data = self._handle.read()
        complete = data.rfind(b"\n") + 1
        tail = data[complete:]
        if tail.strip():
            try:
                self._read(data.count(b"\n") + 1, tail)
                self._handle.write(b"\n")  # a whole line written without its newline: end it
            except UsageError:
                self._handle.truncate(complete)  # the half-written last line of a run that died
        for number, raw in enumerate(data[:complete].split(b"\n")[:-1], start=1):
            if raw.strip():
                self._read(number, raw)

    def _read(self, number: int, raw: bytes) -> None:
        try:
            line = json.loads(raw)
            ok = isinstance(line, dict) and _DIGEST.fullmatch(str(line.get("row", ""))) is not None
            ok = ok and isinstance(line.get("id"), str) and isinstance(line.get("registry"), str)
        except ValueError:
            ok = False
        if not ok:
            message = _("--receipts {path} line {line}: not a receipt written by `claim import`")
            raise UsageError(message.format(path=self.path, line=number))
        self.filed[line["row"]] = (int(line.get("line", 0)), line["id"])
        self.registries.add(line["registry"])

    def bind(self, registry: str) -> None:
        """Refuse receipts from another registry: skipping rows filed elsewhere would file nothing here."""
        others = sorted(self.registries - {registry})
        if others:
            message = _(
                "--receipts {path} holds receipts from registry {other}, not {registry}: give another "
                "--receipts for this registry"
            )
            raise UsageError(message.format(path=self.path, other=others[0], registry=registry))

    def line(
        self, number: int, ref: str | None, digest: str, document: dict[str, Any], receipt: dict[str, Any]
    ) -> dict[str, Any]:
        """The receipts line of a filed row."""
        out: dict[str, Any] = {"line": number}
        if ref is not None:
            out["ref"] = ref
        out |= {"row": digest, "registry": receipt["log"]["registry"]}
        out |= {name: value for name, value in receipt.items() if name != "status"}
        out["document"] = document
        return out

    def append(self, lines: list[dict[str, Any]], batch: int | None = None) -> None:
        """Record filed rows on disk, then forget the batch in flight they came from."""
        if lines:
            text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
            self._handle.write(text.encode("utf-8"))
            self._handle.flush()
            os.fsync(self._handle.fileno())
            for line in lines:
                self.filed[line["row"]] = (line["line"], line["id"])
                self.registries.add(line["registry"])
        self._held.pop(batch, None)
        self._write_pending()

    def hold(self, batch: int, rows: list[tuple[int, str | None, str, dict[str, Any]]]) -> None:
        """Before sending batch number `batch`, write its signed claims (line, ref, digest, document)
        to `.pending`, beside those of any other batch still in flight."""
        self._held[batch] = [
            json.dumps({"line": number, "ref": ref, "row": digest, "document": document}, ensure_ascii=False)
            for number, ref, digest, document in rows
        ]
        self._write_pending()

    def _write_pending(self) -> None:
        if not self._held:
            self.pending.unlink(missing_ok=True)
            return
        temporary = Path(str(self.pending) + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            for entries in self._held.values():
                handle.write("".join(entry + "\n" for entry in entries))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.pending)

    def recover(self, client: Any) -> int:
        """Record the claims of an interrupted batch that the registry holds; how many it holds."""
        import keys
        from crawler_client.errors import RegistryProblem

        if not self.pending.exists():
            return 0
        found = []
        for raw in self.pending.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                continue  # the journal of a batch never sent: nothing of it can be in the registry
            if not isinstance(entry, dict) or entry.get("row") in self.filed:
                continue
            claim_id = keys.document_id(entry["document"])  # what the registry files it under
            try:
                stored = client.get_claim(claim_id)
            except RegistryProblem as exc:
                if exc.status == 404:
                    continue
                raise
            record = {"line": entry["line"], "row": entry["row"], "registry": client.info()["did"]}
            if entry.get("ref") is not None:
                record["ref"] = entry["ref"]
            record |= {
                "id": claim_id,
                "received_at": stored.get("received_at"),
                "log_index": stored.get("log_index"),
                "recovered": True,
                "document": entry["document"],
            }
            found.append(record)
        self.append(found)
        self.pending.unlink(missing_ok=True)  # the rest went nowhere: those rows are filed anew
        return len(found)
