"""Startup benchmark: what importing the CLI and ``gpubroker --help`` add to bare Python.

Each command runs in a fresh interpreter (``sys.executable``), interleaved, after one
untimed warm-up (bytecode caches). Prints medians, the ms added over ``python -c pass``,
the heavy modules loaded by ``import gpubroker.cli`` (should be none) and the slowest
imports by cumulative time (``-X importtime``).

    python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HEAVY = ("boto3", "botocore", "keyring", "sqlite_utils")
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "import gpubroker.cli": ["-c", "import gpubroker.cli"],
    "gpubroker --help": ["-m", "gpubroker", "--help"],
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        sys.exit(f"ERROR: `python {' '.join(args)}` exited {proc.returncode}:\n{tail}")
    return proc


def wall(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    run(args, env)
    return time.perf_counter() - t0


def slowest_imports(env: dict[str, str], top: int = 8) -> list[tuple[int, str]]:
    """(cumulative µs, module) of the slowest imports under ``import gpubroker.cli``."""
    err = run(["-X", "importtime", "-c", "import gpubroker.cli"], env).stderr
    rows = []
    for line in err.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gpubroker-bench-") as home:
        env = {**os.environ, "NO_COLOR": "1", "GPUBROKER_HOME": home}
        for argv in COMMANDS.values():  # warm-up
            run(argv, env)
        times: dict[str, list[float]] = {label: [] for label in COMMANDS}
        for _ in range(args.runs):
            for label, argv in COMMANDS.items():
                times[label].append(wall(argv, env))
        probe = f"import sys, gpubroker.cli; print(*[m for m in {HEAVY!r} if m in sys.modules])"
        loaded = run(["-c", probe], env).stdout.split()
        imports = slowest_imports(env)

    ms = {label: statistics.median(t) * 1000 for label, t in times.items()}
    base = ms["python -c pass"]
    print(f"startup benchmark: {args.runs} runs, medians, {sys.executable}")
    print(f"{'command':<24}{'median (ms)':>12}{'added (ms)':>12}")
    for label, value in ms.items():
        added = "" if label == "python -c pass" else f"{value - base:>12.0f}"
        print(f"{label:<24}{value:>12.0f}{added}")
    print(f"heavy modules after `import gpubroker.cli`: {', '.join(loaded) or 'none'}"
          f" (checked: {', '.join(HEAVY)})")  # fmt: skip
    print("slowest imports (cumulative ms):")
    for micros, module in imports:
        print(f"  {micros / 1000:8.1f}  {module}")
    return 1 if loaded else 0


if __name__ == "__main__":
    sys.exit(main())
