"""Shared by the witness tests: an in-memory log that can be forked, and a `kotowari witness`
process on a loopback port."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from keys import merkle
from keys.note import Checkpoint, NoteSigner, sign_note, verifier_key
from tests.conftest import free_port, start_process


class MemoryLog:
    """A Merkle log in memory, signed like the registry's; `fork` copies a prefix under the same key,
    which is how a registry would present a split view."""

    def __init__(self, origin: str = "kotowari.test/log", signer: NoteSigner | None = None) -> None:
        self.origin = origin
        self.signer = signer or NoteSigner(origin, Ed25519PrivateKey.generate())
        self.leaves: list[bytes] = []
        self.proofs_asked: list[tuple[int, int]] = []

    @property
    def verifier_key(self) -> str:
        return verifier_key(self.signer.name, self.signer.private_key.public_key())

    def append(self, *entries: bytes) -> str:
        self.leaves.extend(merkle.leaf_hash(entry) for entry in entries)
        return self.checkpoint_note(len(self.leaves))

    def fork(self, size: int) -> MemoryLog:
        other = MemoryLog(self.origin, self.signer)
        other.leaves = self.leaves[:size]
        return other

    def root(self, size: int) -> bytes:
        return merkle.root_from_leaf_hashes(self.leaves[:size])

    def checkpoint_text(self, size: int | None = None) -> str:
        size = len(self.leaves) if size is None else size
        return Checkpoint(self.origin, size, self.root(size)).to_text()

    def checkpoint_note(self, size: int | None = None) -> str:
        return sign_note(self.checkpoint_text(size), [self.signer])

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        self.proofs_asked.append((first, second))
        return merkle.consistency_proof(self.leaves, first, second)

    async def latest_checkpoint(self) -> str:
        return self.checkpoint_note()

    def body(self, old: int, size: int | None = None, proof: Sequence[bytes] | None = None) -> str:
        """An add-checkpoint body for this log's checkpoint at `size`, from `old`."""
        size = len(self.leaves) if size is None else size
        if proof is None:
            proof = merkle.consistency_proof(self.leaves, old, size) if old <= size else []
        lines = "".join(base64.b64encode(node).decode() + "\n" for node in proof)
        return f"old {old}\n{lines}\n{self.checkpoint_note(size)}"


# ------------------------------------------------------------------ a witness process

_RUNNER = """
import sys
from crawler_client.cli_support import Parser, UsageError
from crawler_client import witness_cli
parser = Parser(prog="kotowari")
witness_cli.register(parser.add_subparsers(dest="command", required=True, parser_class=Parser))
args = parser.parse_args(sys.argv[1:])
try:
    sys.exit(args.run(args))
except UsageError as exc:
    print(f"kotowari: error: {exc}", file=sys.stderr)
    sys.exit(2)
"""


def witness_command() -> list[str]:
    """`kotowari` once `witness` is registered in cli.py; until then, the module's own parser."""
    from crawler_client import cli

    if "crawler_client.witness_cli" in cli.COMMAND_MODULES:
        return [sys.executable, "-m", "crawler_client.cli"]
    return [sys.executable, "-c", _RUNNER]


@dataclass
class WitnessProcess:
    url: str
    process: subprocess.Popen[str]
    banner: str

    @property
    def verifier_key(self) -> str:
        return self.banner.splitlines()[0].removeprefix("Kotowari witness ")


def start_witness(data_dir: Path, logs: dict[str, str], *extra: str, timeout: float = 30.0) -> WitnessProcess:
    port = free_port()
    argv = [*witness_command(), "witness", "serve", "--data-dir", str(data_dir), "--port", str(port), *extra]
    for origin, key in logs.items():
        argv += ["--log", f"{origin}={key}"]
    url = f"http://127.0.0.1:{port}"
    process, banner = start_process(argv, f"{url}/witness", timeout)
    return WitnessProcess(url, process, banner)


def stop_witness(witness: WitnessProcess) -> None:
    witness.process.terminate()
    try:
        witness.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        witness.process.kill()
        witness.process.wait(timeout=10)
    if witness.process.stdout is not None:
        witness.process.stdout.close()
