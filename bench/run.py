"""Every scale figure of issue 6, measured on this machine: ``python bench/run.py``.

Prints one table (figure, median, goal, pass/miss) and writes ``bench/RESULTS.md`` with a
line describing the machine. Only public tools measure: wall time of subprocesses, and
their peak RSS from ``/usr/bin/time -f %M`` (``os.wait4`` when it is missing).

1. A synthetic Vast.ai listing (``bench/vast_listing.py``: 25,000 machines, every key a
   real bundles row has) is served on 127.0.0.1 (random port); a real
   ``gpubroker offers refresh --provider vastai`` fetches it through
   ``GPUBROKER_VASTAI_URL`` with ``GPUBROKER_ROW_LIMITS=vastai=30000`` (Vast's per-search
   ``limit``; at the default 3000 the listing would be marked truncated), building a
   50,000-offer cache (on-demand and interruptible). Its peak RSS is a figure.
2. Cold ``gpubroker browse --offline`` runs over that cache, interleaved: the filtered
   top 20 as JSON, and every row as JSON lines.
3. ``gpubroker --help`` against ``python -m gpuhunt --help`` run alternately (gpuhunt is
   installed in a throwaway venv under /tmp; the figure is skipped, with the reason, when
   it cannot be installed).
4. TOPSIS on 100,000 x 6, in this process.
5. 8 processes writing to one database at once: every row must be there afterwards.
6. Fan-out: a fresh search across every HTTP provider (``bench/fanout.py``'s server and
   route table) with each request delayed 300 ms, against the same with no delay; the
   added wall as a multiple of one request.

    python bench/run.py [--runs 7] [--offers 50000] [--no-gpuhunt] [--output bench/RESULTS.md]

Exit status: 0 when every goal is met, 1 when one is missed, 2 when the run itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import fanout  # noqa: E402
from vast_listing import Listing, Server  # noqa: E402

GPUHUNT_VENV = Path(tempfile.gettempdir()) / "gpubroker-bench-gpuhunt"
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
TARGETED = ["browse", "--offline", "--gpu", "h100", "--min-gpus", "2", "--limit", "20"]
TARGETED_CMD = "browse --offline --gpu h100 --min-gpus 2 --limit 20 --format json"
FULL_CMD = "browse --offline --limit 0 --format jsonl"
WRITERS, WRITER_ROUNDS, WRITER_OFFERS = 8, 25, 50
HEAVY = ("pydantic", "httpx", "rich", "boto3", "botocore", "keyring", "sqlite_utils")
FANOUT_DELAY_S = 0.3


class BenchError(Exception):
    """The benchmark itself could not run (not a missed goal)."""


@dataclass
class Figure:
    """One line of the table."""

    name: str
    value: float | None  # the median; None when skipped
    unit: str
    goal: str
    passed: bool | None  # None: no goal, or skipped
    note: str = ""

    def cells(self) -> list[str]:
        if self.value is None:
            median = "skipped"
        elif self.unit == "s":
            median = f"{self.value:.3f} s"
        elif self.unit == "MiB":
            median = f"{self.value:.0f} MiB"
        elif self.unit == "x":
            median = f"{self.value:.2f}x"
        else:
            median = f"{self.value:g} {self.unit}".strip()
        result = {True: "pass", False: "MISS", None: "-"}[self.passed]
        return [self.name, median, self.goal, result]


@dataclass
class Run:
    wall_s: float
    rss_mib: float
    stdout: bytes
    stderr: str


def measured(argv: Sequence[str], env: dict[str, str]) -> Run:
    """Run a command; its wall time and peak RSS.

    The RSS comes from ``/usr/bin/time -f %M``: the command is its child, so what it reports
    is the command's own peak. (``os.wait4`` on a direct child would also count the pages
    of this process the child held between fork and exec.) Without /usr/bin/time,
    ``os.wait4`` it is.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".rss") as rss:  # fmt: skip
        wrapped = [TIME, "-f", "%M", "-o", rss.name, *argv] if TIME else list(argv)
        started = time.perf_counter()
        proc = subprocess.Popen(wrapped, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        kib = usage.ru_maxrss
        if TIME:
            reported = Path(rss.name).read_text().split()
            kib = int(reported[-1]) if reported and reported[-1].isdigit() else kib
        out.seek(0)
        err.seek(0)
        run = Run(wall, kib / 1024, out.read(), err.read().decode(errors="replace"))
    if proc.returncode != 0:
        tail = "\n".join(run.stderr.strip().splitlines()[-5:])
        raise BenchError(f"`{' '.join(argv)}` exited {proc.returncode}:\n{tail}")
    return run


def gpubroker_cmd() -> list[str]:
    """The installed console script next to this Python (what users run), else ``-m``."""
    script = Path(sys.executable).with_name("gpubroker")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gpubroker"]


#: Interpreter settings a user's shell does not usually have, left out of measured runs.
UNUSUAL = ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONPROFILEIMPORTTIME")


def clean_env(home: str) -> dict[str, str]:
    """No user state, no keyring, no proxy for loopback, no colour."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("GPUBROKER_") and k not in UNUSUAL
    }
    env.update(
        GPUBROKER_HOME=home,
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        NO_COLOR="1",
        NO_PROXY="127.0.0.1",
        no_proxy="127.0.0.1",
    )
    return env


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# --- 1-2: the cache and browse ---------------------------------------------------------------


def build_cache(home: str, offers: int, runs: int) -> list[Figure]:
    listing = Listing(offers // 2)
    server = Server(listing).start()
    env = clean_env(home)
    env["GPUBROKER_VASTAI_URL"] = server.base
    env["GPUBROKER_ROW_LIMITS"] = f"vastai={max(3000, offers // 2 + 5000)}"
    cmd = [*gpubroker_cmd(), "offers", "refresh", "--provider", "vastai", "--format", "json"]
    refreshes = []
    try:
        for _ in range(runs):
            run = measured(cmd, env)
            (status,) = json.loads(run.stdout)
            if status["status"] != "ok" or status["count"] != offers or status["truncated"]:
                raise BenchError(f"refresh did not cache {offers} offers: {status}")
            refreshes.append(run)
    finally:
        server.shutdown()
    return [
        Figure(
            f"`offers refresh` of one {offers:,}-offer listing: peak RSS",
            median([r.rss_mib for r in refreshes]),
            "MiB",
            "< 300 MiB",
            median([r.rss_mib for r in refreshes]) < 300,
            f"{runs} runs; wall {median([r.wall_s for r in refreshes]):.1f} s",
        )
    ]


def browse(home: str, offers: int, runs: int) -> list[Figure]:
    env = clean_env(home)
    base = gpubroker_cmd()
    targeted = [*base, *TARGETED, "--format", "json"]
    full = [*base, "browse", "--offline", "--limit", "0", "--format", "jsonl"]
    floor = [sys.executable, "-c", "import typer.main, gpubroker.models"]
    measured(targeted, env)  # warm-up: bytecode and page caches, as for any cold start
    measured(full, env)
    first: list[Run] = []
    every: list[Run] = []
    imports: list[float] = []
    for _ in range(runs):  # interleaved, so drift hits both alike
        first.append(measured(targeted, env))
        every.append(measured(full, env))
        imports.append(measured(floor, env).wall_s)
    shown = json.loads(first[-1].stdout)
    if len(shown) != 20 or not all(r["gpu_model"].startswith("H100") for r in shown):
        raise BenchError(f"the filtered browse printed {len(shown)} rows, not 20 H100 offers")
    lines = every[-1].stdout.count(b"\n")
    if lines < offers:
        raise BenchError(f"the full browse printed {lines} rows, fewer than {offers}")
    note = f"{runs} cold runs over {offers:,} cached offers"
    floor_note = (f"{note}; for scale, `python -c 'import typer.main, gpubroker.models'` "
                  f"alone: {median(imports):.3f} s")  # fmt: skip
    return [
        Figure(f"`{TARGETED_CMD}`: wall", median([r.wall_s for r in first]), "s", "< 0.5 s",
               median([r.wall_s for r in first]) < 0.5, floor_note),
        Figure(f"`{TARGETED_CMD}`: peak RSS", median([r.rss_mib for r in first]), "MiB",
               "< 100 MiB", median([r.rss_mib for r in first]) < 100, note),
        Figure(f"`{FULL_CMD}`: wall", median([r.wall_s for r in every]), "s", "< 2 s",
               median([r.wall_s for r in every]) < 2, f"{note}; {lines:,} lines"),
        Figure(f"`{FULL_CMD}`: peak RSS", median([r.rss_mib for r in every]), "MiB",
               "< 150 MiB", median([r.rss_mib for r in every]) < 150, note),
    ]  # fmt: skip


# --- 3: --help against gpuhunt ---------------------------------------------------------------


def gpuhunt_python() -> tuple[Path | None, str]:
    """A venv's Python with gpuhunt installed (made once under /tmp), or why there is none."""
    python = GPUHUNT_VENV / "bin" / "python"
    check = [str(python), "-c", "import gpuhunt"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, ""
    try:
        subprocess.run([sys.executable, "-m", "venv", str(GPUHUNT_VENV)], check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        subprocess.run([str(python), "-m", "pip", "install", "-q", "gpuhunt"], check=True,
                       capture_output=True, timeout=600)  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        last = detail.decode(errors="replace").strip().splitlines()[-1:] or [str(exc)]
        return None, f"gpuhunt could not be installed in {GPUHUNT_VENV}: {last[0]}"
    return python, ""


def help_vs_gpuhunt(runs: int, use_gpuhunt: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="gpubroker-bench-") as home:
        env = clean_env(home)
        ours = [*gpubroker_cmd(), "--help"]
        python, why = gpuhunt_python() if use_gpuhunt else (None, "skipped (--no-gpuhunt)")
        theirs = [str(python), "-m", "gpuhunt", "--help"] if python else None
        measured(ours, env)
        if theirs:
            measured(theirs, env)
        mine, other = [], []
        for _ in range(max(runs, 11)):  # alternately, in the same run
            mine.append(measured(ours, env).wall_s)
            if theirs:
                other.append(measured(theirs, env).wall_s)
    probe = "import sys, gpubroker.cli; print(*[m for m in {!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", probe.format(HEAVY)], capture_output=True,
                            text=True, env=env).stdout.split()  # fmt: skip
    figures = [
        Figure("`gpubroker --help`: wall", median(mine), "s", "-", None,
               f"heavy modules after `import gpubroker.cli`: {', '.join(loaded) or 'none'} "
               f"(checked: {', '.join(HEAVY)})")
    ]  # fmt: skip
    if not theirs:
        figures.append(Figure("`gpubroker --help` / `python -m gpuhunt --help`", None, "x",
                              "<= 0.8x", None, why))  # fmt: skip
        return figures
    ratio = median(mine) / median(other)
    figures.append(
        Figure("`gpubroker --help` / `python -m gpuhunt --help`", ratio, "x", "<= 0.8x",
               ratio <= 0.8, f"gpuhunt --help {median(other) * 1000:.0f} ms, alternated")
    )  # fmt: skip
    return figures


# --- 4: TOPSIS in process --------------------------------------------------------------------


def topsis_100k(runs: int) -> list[Figure]:
    from gpubroker.ranking import topsis

    rng = random.Random(6)
    matrix = [[rng.uniform(0.01, 1000.0) for _ in range(6)] for _ in range(100_000)]
    weights = [0.3, 0.2, 0.2, 0.1, 0.1, 0.1]
    benefit = [False, True, True, True, True, False]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        scores = topsis(matrix, weights, benefit)
        times.append(time.perf_counter() - started)
        assert len(scores) == 100_000
    return [Figure("TOPSIS, 100,000 x 6, in process", median(times), "s", "< 0.5 s",
                   median(times) < 0.5, f"{runs} runs")]  # fmt: skip


# --- 5: concurrent writers -------------------------------------------------------------------


def writer(db: str, name: str, rounds: int, go: str) -> None:
    """One of the concurrent writers (``run.py _writer ...``): save and log ``rounds`` times."""
    from gpubroker.models import ProviderState, ProviderStatus
    from gpubroker.providers.base import make_offer
    from gpubroker.store import Store

    while not Path(go).exists():
        time.sleep(0.002)
    base = datetime(2026, 9, 1, tzinfo=UTC)
    with Store(db) as store:
        for i in range(rounds):
            moment = base.replace(second=i % 60, minute=i // 60)
            offers = [
                make_offer(provider=name, native_id=f"{i}-{k}", gpu_name_raw="H100 SXM",
                           gpu_count=1 + k % 8, price_per_hour_usd=1.0 + k, observed_at=moment)
                for k in range(WRITER_OFFERS)
            ]  # fmt: skip
            store.save_offers(name, [o for o in offers if o is not None], moment)
            store.record_fetch(
                ProviderStatus(provider=name, status=ProviderState.OK, count=WRITER_OFFERS),
                moment,
            )


def concurrent_writers() -> list[Figure]:
    from gpubroker.store import Store

    with tempfile.TemporaryDirectory(prefix="gpubroker-bench-") as tmp:
        db, go = str(Path(tmp) / "gpubroker.db"), Path(tmp) / "go"
        Store(db).close()
        procs = [
            subprocess.Popen(
                [sys.executable, __file__, "_writer", db, f"w{n}", str(WRITER_ROUNDS), str(go)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for n in range(WRITERS)
        ]
        time.sleep(1.0)  # let them all import and wait
        started = time.perf_counter()
        go.touch()
        errors = [p.communicate(timeout=600)[1] for p in procs]
        wall = time.perf_counter() - started
        failed = [e.strip().splitlines()[-1] for p, e in zip(procs, errors, strict=True)
                  if p.returncode != 0]  # fmt: skip
        with Store(db) as store:
            conn = store.conn
            fetches = conn.execute("SELECT count(*) FROM fetches").fetchone()[0]
            history = conn.execute("SELECT count(*) FROM price_history").fetchone()[0]
            cached = conn.execute("SELECT count(*) FROM offers").fetchone()[0]
    expected = (WRITERS * WRITER_ROUNDS, WRITERS * WRITER_ROUNDS, WRITERS * WRITER_OFFERS)
    found = (fetches, history, cached)
    lost = sum(e - f for e, f in zip(expected, found, strict=True))
    note = (f"{WRITERS} processes x {WRITER_ROUNDS} rounds ({WRITER_OFFERS} offers + a fetch "
            f"log row each) in {wall:.1f} s; fetches {fetches}/{expected[0]}, "
            f"history {history}/{expected[1]}, cached {cached}/{expected[2]}")  # fmt: skip
    if failed:
        note += f"; writer errors: {failed}"
    return [Figure(f"{WRITERS} concurrent writer processes: rows lost", lost, "", "0",
                   lost == 0 and not failed, note)]  # fmt: skip


# --- 6: fan-out ------------------------------------------------------------------------------


def fanout_added_wall(runs: int) -> list[Figure]:
    base_paths = fanout.bench_providers()  # exits when the route table is out of date
    providers = list(base_paths)
    server = fanout.start_server(base_paths, 0.0)
    saved = dict(os.environ)
    try:
        with tempfile.TemporaryDirectory(prefix="gpubroker-bench-") as home:
            fanout.configure_env(server.base, base_paths)
            os.environ["GPUBROKER_HOME"] = home
            fanout.timed_search(providers, FANOUT_DELAY_S)  # warm-up
            slow, fast = [], []
            for _ in range(runs):
                server.delay = FANOUT_DELAY_S
                slow.append(fanout.timed_search(providers, FANOUT_DELAY_S))
                server.delay = 0.0
                fast.append(fanout.timed_search(providers, FANOUT_DELAY_S))
    except RuntimeError as exc:
        raise BenchError(f"fan-out: {exc}") from None
    finally:
        server.shutdown()
        os.environ.clear()
        os.environ.update(saved)
    added = (median(slow) - median(fast)) / FANOUT_DELAY_S
    note = (f"{len(providers)} providers ({', '.join(providers)}); wall {median(slow):.2f} s "
            f"with {FANOUT_DELAY_S * 1000:.0f} ms per request, {median(fast):.2f} s without; "
            + "; ".join(f"{n} excluded: {why}" for n, why in fanout.EXCLUDED.items()))  # fmt: skip
    return [Figure("Fresh search across all HTTP providers, every request +300 ms: added wall",
                   added, "x", "<= 2.5x one request", added <= 2.5, note)]  # fmt: skip


# --- report ----------------------------------------------------------------------------------


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"load average {load} at the start"
    )


def commit() -> str:
    done = subprocess.run(["git", "-C", str(BENCH), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip() or "unknown"


def table(figures: Sequence[Figure], markdown: bool) -> str:
    head = ["figure", "median", "goal", "result"]
    rows = [f.cells() for f in figures]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [min(max(len(r[i]) for r in [head, *rows]), 90) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*("-" * w for w in widths)),
                      *(fmt.format(*r) for r in rows)])  # fmt: skip


def write_results(path: Path, figures: Sequence[Figure], machine: str, args: argparse.Namespace,
                  elapsed: float) -> None:  # fmt: skip
    notes = "\n".join(f"- {f.name}: {f.note}" for f in figures if f.note)
    path.write_text(
        f"# Benchmark results\n\nWritten by `python bench/run.py` (commit {commit()}, "
        f"{args.runs} runs per figure, medians; the whole run took {elapsed:.0f} s).\n\n"
        f"Machine: {machine}\n\n{table(figures, markdown=True)}\n\nNotes:\n\n{notes}\n",
        encoding="utf-8",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["_writer"]:
        db, name, rounds, go = args_list[1:5]
        writer(db, name, int(rounds), go)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs per figure")
    parser.add_argument("--offers", type=int, default=50_000, help="offers in the cache")
    parser.add_argument("--no-gpuhunt", action="store_true", help="skip the gpuhunt figure")
    parser.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args(args_list)

    machine = machine_line()
    print(f"machine: {machine}", flush=True)
    # As `pip install` leaves it: bytecode compiled (PYTHONDONTWRITEBYTECODE, or an editable
    # install never run, would have every measured start compile gpubroker's sources).
    import gpubroker

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(gpubroker.__file__).parent)],
                   check=True, capture_output=True)  # fmt: skip
    started = time.perf_counter()
    steps: list[tuple[str, Callable[[], list[Figure]]]] = []
    with tempfile.TemporaryDirectory(prefix="gpubroker-bench-") as home:
        steps = [
            ("refresh", lambda: build_cache(home, args.offers, max(3, args.runs // 2))),
            ("browse", lambda: browse(home, args.offers, args.runs)),
            ("--help", lambda: help_vs_gpuhunt(args.runs, not args.no_gpuhunt)),
            ("TOPSIS", lambda: topsis_100k(args.runs)),
            ("writers", concurrent_writers),
            ("fan-out", lambda: fanout_added_wall(max(3, args.runs // 2))),
        ]
        figures: list[Figure] = []
        try:
            for label, step in steps:
                print(f"measuring: {label}...", file=sys.stderr, flush=True)
                figures.extend(step())
        except BenchError as exc:
            print(f"ERROR: {exc}", file=sys.stderr)
            return 2
    elapsed = time.perf_counter() - started
    print(table(figures, markdown=False))
    write_results(args.output, figures, machine, args, elapsed)
    print(f"wrote {args.output}")
    return 1 if any(f.passed is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
