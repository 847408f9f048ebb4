"""`kotowari publish` of a witnessed registry: the static copy serves the cosigned checkpoint as the
registry does, and `log verify`, `snapshot pull` and `verify` with `--witness` accept it from a plain
`http.server` (the cosignatures verified, the snapshot's checkpoint proven, from the copy's tiles, to
be of the witnessed tree); a copy whose cosignatures were stripped is refused."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.crawler_client.static_servers import python_http_server
from tests.crawler_client.test_walkthrough import kotowari
from tests.crawler_client.test_witness_cli import Witnessed, file_receipt, witnessed  # noqa: F401


def cosigned_at(url: str, size: int, timeout: float = 30.0) -> str:
    """The registry's checkpoint once both witnesses have cosigned it at `size`."""
    deadline = time.monotonic() + timeout
    while True:
        note = httpx.get(f"{url}/log/checkpoint", timeout=10).text
        if int(note.split("\n")[1]) >= size and note.count("\n— ") == 3:  # the log's and two witnesses'
            return note
        assert time.monotonic() < deadline, note
        time.sleep(0.2)


def test_a_witnessed_registrys_static_copy_verifies_with_its_cosignatures(
    witnessed: Witnessed,  # noqa: F811
    tmp_path: Path,
) -> None:
    url = witnessed.server.url
    for n in range(3):
        file_receipt(url, tmp_path / f"receipt-{n}.json", n)
    note = cosigned_at(url, 3)
    tree = tmp_path / "tree"
    kotowari("publish", "--registry", url, "--out", str(tree), cwd=tmp_path)
    assert (tree / "log/checkpoint").read_text() == note

    with python_http_server(tree) as static:
        verified = kotowari(
            "log", "verify", "--registry", static, "--state", "log.json", *witnessed.flags(), cwd=tmp_path
        )
        assert "cosigned by w-a.test, w-b.test (2 of 2 required)" in verified.stdout, verified.stdout
        pulled = kotowari(
            "snapshot",
            "pull",
            "--registry",
            static,
            "--out",
            "claims.snapshot",
            *witnessed.flags(),
            cwd=tmp_path,
        )
        assert "tree size 3" in pulled.stdout
        checked = kotowari(
            "verify", "claims.snapshot", "--registry", static, *witnessed.flags(), cwd=tmp_path
        )
        assert "(2 of 2 required) at size 3" in checked.stdout, checked.stdout

    # the same tree with the witnesses' lines removed: signed by the log, but not witnessed
    (tree / "log/checkpoint").write_text(note.split("\n— ")[0] + "\n— " + note.split("\n— ")[1] + "\n")
    with python_http_server(tree) as static:
        refused = kotowari(
            "log", "verify", "--registry", static, "--state", "again.json", *witnessed.flags(),
            cwd=tmp_path, check_status=None,
        )  # fmt: skip
        assert refused.returncode == 1 and "has 0 of 2 required cosignatures" in refused.stdout, refused
