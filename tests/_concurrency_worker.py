"""Helper processes for the multi-process tests (run with ``sys.executable``).

Usage:
    python _concurrency_worker.py store-writer DB PROVIDER ROUNDS READY_FILE GO_FILE
        Wait for GO_FILE (after creating READY_FILE), open the store, then ROUNDS times:
        ``save_offers`` (3 offers, ids ``PROVIDER:<round>-<k>``) and ``record_fetch``.
        Prints one JSON line: provider, rounds, and the wall-clock start and end of the writes.

    python _concurrency_worker.py open-race DIR PROCS ROUNDS
        ROUNDS times, PROCS forked processes released together by a barrier all open the
        same brand-new database ``DIR/db<round>.sqlite`` with ``Store``. Prints JSON with the
        number of opens that failed and the first error message.

    python _concurrency_worker.py slow-collect SLEEP_S TIMEOUT_S
        Collect from one fake provider that blocks SLEEP_S in a plain ``time.sleep`` with a
        provider timeout of TIMEOUT_S, print the status and the collect time as JSON, exit.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def store_writer(db: str, provider: str, rounds: int, ready: str, go: str) -> int:
    import sqlite_utils  # noqa: F401  (import before the start signal, not during the race)

    from gpubroker.models import ProviderState, ProviderStatus
    from gpubroker.providers.base import make_offer
    from gpubroker.store import Store

    Path(ready).touch()
    deadline = time.monotonic() + 30
    while not Path(go).exists():
        if time.monotonic() > deadline:
            print("no go signal", file=sys.stderr)
            return 2
        time.sleep(0.005)
    base = datetime(2026, 9, 1, tzinfo=UTC)
    started = time.time()
    with Store(db) as store:
        for i in range(rounds):
            at = base + timedelta(seconds=i)
            offers = []
            for k in range(3):
                offer = make_offer(
                    provider=provider,
                    native_id=f"{i}-{k}",
                    gpu_name_raw="H100 SXM",
                    gpu_count=1,
                    gpu_memory_gib=80,
                    price_per_hour_usd=1.0 + k,
                    observed_at=at,
                )
                assert offer is not None
                offers.append(offer)
            store.save_offers(provider, offers, at)
            store.record_fetch(
                ProviderStatus(provider=provider, status=ProviderState.OK, count=len(offers)),
                at,
            )
            time.sleep(0.003)  # let the other writer interleave, even on a loaded machine
    ended = time.time()
    print(json.dumps({"provider": provider, "rounds": rounds, "start": started, "end": ended}))
    return 0


def _open_rounds(directory: str, rounds: int, barrier: Any, results: Any) -> None:
    from gpubroker.errors import StoreError
    from gpubroker.store import Store

    for r in range(rounds):
        barrier.wait()
        try:
            Store(Path(directory) / f"db{r}.sqlite").close()
        except StoreError as exc:
            results.put(str(exc))
    results.put(None)


def open_race(directory: str, procs: int, rounds: int) -> int:
    import multiprocessing

    import sqlite_utils  # noqa: F401  (imported once, before forking)

    import gpubroker.store  # noqa: F401

    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(procs)
    results = ctx.Queue()
    children = [
        ctx.Process(target=_open_rounds, args=(directory, rounds, barrier, results))
        for _ in range(procs)
    ]
    for child in children:
        child.start()
    errors: list[str] = []
    finished = 0
    while finished < procs:
        item = results.get(timeout=120)
        if item is None:
            finished += 1
        else:
            errors.append(item)
    for child in children:
        child.join(timeout=30)
    print(json.dumps({"opens": procs * rounds, "failed": len(errors), "errors": errors[:3]}))
    return 0


def slow_collect(sleep_s: float, timeout_s: float) -> int:
    from gpubroker.offers import OfferCollector
    from gpubroker.providers import PROVIDERS
    from gpubroker.providers.base import FetchResult, Provider
    from gpubroker.runtime import Runtime
    from gpubroker.settings import Settings

    class Slow(Provider):
        name = "slow"
        label = "Slow"

        def _fetch(self, session):  # type: ignore[no-untyped-def]
            time.sleep(sleep_s)
            return FetchResult([])

    PROVIDERS.clear()
    PROVIDERS["slow"] = Slow
    t0 = time.monotonic()
    settings = Settings(provider_timeout_s=timeout_s)
    runtime = Runtime(settings=settings)
    collector = OfferCollector(
        settings, None, client_factory=runtime.http_client, provider_factory=runtime.provider
    )
    result = collector.collect(["slow"])
    elapsed = time.monotonic() - t0
    print(json.dumps({"status": result.statuses[0].status.value, "collect_s": elapsed}))
    sys.stdout.flush()
    return 0


def main(argv: list[str]) -> int:
    if argv[0] == "store-writer":
        return store_writer(argv[1], argv[2], int(argv[3]), argv[4], argv[5])
    if argv[0] == "open-race":
        return open_race(argv[1], int(argv[2]), int(argv[3]))
    if argv[0] == "slow-collect":
        return slow_collect(float(argv[1]), float(argv[2]))
    print(f"unknown mode {argv[0]!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
