"""crawler_client must import and run with only the client dependencies installed (DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = ["starlette", "tortoise", "uvicorn", "aiosqlite", "asyncpg"]


def test_client_and_cli_run_without_server_packages(tmp_path):
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {SERVER_ONLY!r}:
                    raise ImportError(f"blocked server-only package {{name}}", name=name)
                return None

        sys.meta_path.insert(0, Block())
        import crawler_client, crawler_client.cli
        assert crawler_client.cli.main(["url", "https://Example.com/a/../b"]) == 0
        assert crawler_client.cli.main(["keys", "new", "--out", "k.key"]) == 0
        status = crawler_client.cli.main(["claim", "new", "--key", "k.key", "--kind", "work",
                                          "--url", "https://example.com/", "--deny", "train-ai"])
        assert status == 0
        assert crawler_client.cli.main(["serve"]) == 2  # says how to install the server, no traceback
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {SERVER_ONLY!r})
        assert not loaded, loaded
        """
    )
    environment = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    assert "example.com/b" in result.stdout
    assert "pip install 'kotowari[server]'" in result.stderr
    assert "Traceback" not in result.stderr
