"""How fast `kotowari` starts for commands that need neither Arrow nor image libraries, beside
a bare `python -c pass` measured in the same run (issue 14: each within 3x that plus 0.15 s).

    python bench/startup.py [--runs 15]

Every figure is the best of `--runs` wall-clock times, each a fresh process, the commands taken in
turn so that a noisy moment on a shared machine costs every command alike. `kotowari` is run as its
console script runs it (`from crawler_client.cli import main`), from this working tree, with its
bytecode cached (written by the first run, as an installed package has it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BASELINE = [sys.executable, "-c", "pass"]
KOTOWARI = [sys.executable, "-c", "import sys; from crawler_client.cli import main; sys.exit(main())"]


def claim_new(work: Path, out: str) -> list[str]:
    return [
        *("claim", "new", "--key", str(work / "k.key"), "--kind", "work"),
        *("--url", "https://example.com/art/", "--name", "山田花子", "--deny", "train-ai,generate"),
        *("--out", out),
    ]


def commands(work: Path) -> dict[str, list[str]]:
    """Name → argument list; `{n}` in an argument is the run number (a file each run creates)."""
    return {
        "kotowari --help": ["--help"],
        "kotowari keys new": ["keys", "new", "--out", str(work / "new{n}.key")],
        "kotowari url URL": ["url", "https://Example.com/a/../b"],
        "kotowari claim new --help": ["claim", "new", "--help"],
        "kotowari claim new (sign)": claim_new(work, str(work / "claim{n}.json")),
        "kotowari check --help": ["check", "--help"],
        "kotowari verify FILE": ["verify", str(work / "claim.json")],
    }


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[3:])} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per figure (default 15)")
    options = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop("KOTOWARI_REGISTRY", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as in an installed package
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        setup = commands(work)
        # The key and the signed claim that `claim new` and `verify` read.
        timed([*KOTOWARI, "keys", "new", "--out", str(work / "k.key")], work, env)
        timed([*KOTOWARI, *claim_new(work, str(work / "claim.json"))], work, env)
        runs: dict[str, list[float]] = {name: [] for name in ["python -c pass", *setup]}
        for n in range(options.runs):
            runs["python -c pass"].append(timed(BASELINE, work, env))
            for name, args in setup.items():
                argv = [*KOTOWARI, *(arg.replace("{n}", str(n)) for arg in args)]
                runs[name].append(timed(argv, work, env))
    baseline = min(runs.pop("python -c pass"))
    limit = 3 * baseline + 0.15
    print(f"python {sys.version.split()[0]}, best of {options.runs} runs each, on {os.cpu_count()} CPUs")
    print(f"{'python -c pass (baseline)':<28} {baseline:7.3f} s")
    print(f"{'limit: 3 x baseline + 0.15':<28} {limit:7.3f} s")
    print()
    print(f"{'command':<28} {'best':>7}   {'limit':>7}   {'x baseline':>10}   within")
    for name, seconds in runs.items():
        best = min(seconds)
        verdict = "yes" if best <= limit else "NO"
        print(f"{name:<28} {best:7.3f} s {limit:7.3f} s {best / baseline:10.1f}x   {verdict}")


if __name__ == "__main__":
    main()
