"""Store: migrations, WAL, the offers cache, the fetch log, and concurrent processes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gpubroker import store as store_mod
from gpubroker.models import Offer, ProviderState, ProviderStatus, Source
from gpubroker.providers.base import make_offer
from gpubroker.store import Store

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
WORKER = Path(__file__).parent / "_concurrency_worker.py"
ALL_MIGRATIONS = [name for name, _ in store_mod.MIGRATIONS]


def offer(provider: str, native_id: str, price: float = 2.0, **kw: Any) -> Offer:
    o = make_offer(
        provider=provider,
        native_id=native_id,
        gpu_name_raw=kw.pop("gpu", "H100 SXM"),
        gpu_count=kw.pop("count", 1),
        gpu_memory_gib=kw.pop("memory", 80),
        price_per_hour_usd=price,
        observed_at=T0,
        **kw,
    )
    assert o is not None
    return o


def status(provider: str, state: ProviderState = ProviderState.OK, **kw: Any) -> ProviderStatus:
    return ProviderStatus(provider=provider, status=state, **kw)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path, now=lambda: T0) as s:
        yield s


def ids(offers: list[Offer]) -> list[str]:
    return sorted(o.id for o in offers)


def count(store: Store, table: str, where: str = "1", params: tuple[Any, ...] = ()) -> int:
    return store.db.execute(f"select count(*) from {table} where {where}", params).fetchone()[0]


# --- migrations and pragmas -----------------------------------------------------------------


def test_migrations_applied_once_and_idempotent(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def counting(name: str, fn: store_mod.Migration) -> store_mod.Migration:
        def run(db: Any) -> None:
            calls.append(name)
            fn(db)

        return run

    monkeypatch.setattr(
        store_mod, "MIGRATIONS", [(name, counting(name, fn)) for name, fn in store_mod.MIGRATIONS]
    )
    with Store(db_path, now=lambda: T0) as first:
        assert first.applied_migrations() == ALL_MIGRATIONS
        assert calls == ALL_MIGRATIONS
        assert first.migrate() == []
        rows = list(first.db.table("_migrations").rows_where(order_by="name"))
        assert rows == [{"name": n, "applied_at": T0.isoformat()} for n in ALL_MIGRATIONS]

    later = T0 + timedelta(days=1)
    with Store(db_path, now=lambda: later) as again:
        assert again.migrate() == []
        assert again.applied_migrations() == ALL_MIGRATIONS
        # applied_at still records the first run
        assert {r["applied_at"] for r in again.db.table("_migrations").rows} == {T0.isoformat()}
    assert calls == ALL_MIGRATIONS
    assert set(ALL_MIGRATIONS) <= {name for name, _ in store_mod.MIGRATIONS}


def test_wal_mode_and_busy_timeout(store: Store, db_path: Path) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == store_mod.BUSY_TIMEOUT_MS
    # WAL is persistent: a plain connection sees it too.
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_memory_database_works() -> None:
    with Store(":memory:", now=lambda: T0) as s:
        assert s.applied_migrations() == ALL_MIGRATIONS
        s.save_offers("p", [offer("p", "1")], T0)
        cached = s.cached_offers("p")
        assert cached is not None and ids(cached.offers) == ["p:1"]


# --- offers cache ----------------------------------------------------------------------------


def test_save_offers_replaces_only_that_providers_rows(store: Store) -> None:
    store.save_offers("a", [offer("a", "1"), offer("a", "2")], T0)
    store.save_offers("b", [offer("b", "1")], T0)
    t1 = T0 + timedelta(minutes=5)

    store.save_offers("a", [offer("a", "3", 4.0)], t1)

    a = store.cached_offers("a")
    b = store.cached_offers("b")
    assert a is not None and b is not None
    assert ids(a.offers) == ["a:3"]
    assert a.fetched_at == t1
    assert ids(b.offers) == ["b:1"]
    assert b.fetched_at == T0
    assert count(store, "offers") == 2


def test_save_offers_is_atomic_when_the_insert_fails(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlite_utils.db import Table

    store.save_offers("a", [offer("a", "1"), offer("a", "2")], T0)
    history_before = count(store, "price_history")

    def broken_insert_all(self: Table, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Table, "insert_all", broken_insert_all)
    with pytest.raises(RuntimeError, match="disk full"):
        store.save_offers("a", [offer("a", "3")], T0 + timedelta(minutes=1))
    monkeypatch.undo()

    assert store.db.conn.in_transaction is False
    cached = store.cached_offers("a")
    assert cached is not None
    assert ids(cached.offers) == ["a:1", "a:2"]  # the delete was rolled back
    assert cached.fetched_at == T0
    assert count(store, "price_history") == history_before
    # The store is still usable afterwards.
    store.save_offers("a", [offer("a", "4")], T0 + timedelta(minutes=2))
    again = store.cached_offers("a")
    assert again is not None and ids(again.offers) == ["a:4"]


def test_cached_offers_are_marked_cache_with_fetch_time(store: Store) -> None:
    original = offer("p", "1", 3.0, region="us-east-1", spot=True, extras={"k": 1})
    store.save_offers("p", [original], T0)

    cached = store.cached_offers("p")

    assert cached is not None
    assert cached.provider == "p"
    assert cached.fetched_at == T0
    assert cached.age_s(T0 + timedelta(seconds=90)) == 90.0
    assert cached.age_s(T0 - timedelta(seconds=5)) == 0.0  # never negative
    (got,) = cached.offers
    assert got.source is Source.CACHE
    assert got == original.model_copy(update={"source": Source.CACHE})


def test_never_fetched_provider_has_no_cache(store: Store) -> None:
    assert store.cached_offers("p") is None
    # A failed fetch does not make an (empty) cache either.
    store.record_fetch(status("p", ProviderState.ERROR, message="boom"), T0)
    assert store.cached_offers("p") is None


def test_ok_fetch_with_zero_offers_is_cached_as_empty(store: Store) -> None:
    store.save_offers("p", [offer("p", "1")], T0 - timedelta(hours=1))
    t1 = T0
    store.record_fetch(status("p", count=0), t1)
    store.save_offers("p", [], t1)

    cached = store.cached_offers("p")

    assert cached is not None
    assert cached.offers == []
    assert cached.fetched_at == t1
    assert count(store, "offers", "provider = ?", ("p",)) == 0


def test_get_offer(store: Store) -> None:
    original = offer("p", "x", 5.0)
    store.save_offers("p", [original, offer("p", "y")], T0)

    got = store.get_offer("p:x")

    assert got == original.model_copy(update={"source": Source.CACHE})
    assert store.get_offer("p:nope") is None


# --- fetch log ---------------------------------------------------------------------------


def test_record_fetch_and_last_fetch(store: Store) -> None:
    assert store.last_fetch("p") is None
    t1, t2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    store.record_fetch(status("p", count=4, latency_ms=12.5), T0)
    store.record_fetch(
        status("p", ProviderState.TIMEOUT, latency_ms=300.0, message="p: timed out"), t2
    )
    store.record_fetch(status("p", count=7, truncated=True), t1)  # logged out of order
    store.record_fetch(status("q", count=1), t2)

    last = store.last_fetch("p")
    assert last is not None
    assert {k: v for k, v in last.items() if k != "id"} == {
        "provider": "p",
        "started_at": t2.isoformat(),
        "status": "timeout",
        "count": 0,
        "latency_ms": 300.0,
        "message": "p: timed out",
        "truncated": 0,
        "skipped": {},
    }
    ok = store.last_fetch("p", ok_only=True)
    assert ok is not None
    assert (ok["started_at"], ok["status"], ok["count"], ok["truncated"]) == (
        t1.isoformat(),
        "ok",
        7,
        1,
    )
    q = store.last_fetch("q")
    assert q is not None and q["count"] == 1


def test_timestamps_are_normalised_to_utc(store: Store) -> None:
    from datetime import timezone

    paris = timezone(timedelta(hours=2))
    local = datetime(2026, 9, 1, 14, 0, tzinfo=paris)  # == T0
    store.save_offers("p", [offer("p", "1")], local)
    store.record_fetch(status("p"), local)

    cached = store.cached_offers("p")
    last = store.last_fetch("p")
    assert cached is not None and cached.fetched_at == T0
    assert last is not None and last["started_at"] == "2026-09-01T12:00:00+00:00"


# --- two processes ---------------------------------------------------------------------------


def test_two_processes_write_concurrently_without_losing_rows(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite"
    # Created first: a brand-new file opened by both at once hits the bug tested below.
    Store(db).close()
    rounds = 30
    go = tmp_path / "go"
    procs = []
    for name in ("alpha", "beta"):
        ready = tmp_path / f"ready-{name}"
        cmd = [sys.executable, str(WORKER), "store-writer", str(db), name, str(rounds)]
        procs.append(
            (
                ready,
                subprocess.Popen(
                    [*cmd, str(ready), str(go)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    deadline = time.monotonic() + 30
    while not all(ready.exists() for ready, _ in procs):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for _, p in procs), "a worker died before the start"
        time.sleep(0.01)
    t0 = time.monotonic()
    go.touch()
    outputs = [p.communicate(timeout=60) for _, p in procs]
    elapsed = time.monotonic() - t0

    reports = []
    for (_, p), (out, err) in zip(procs, outputs, strict=True):
        assert "database is locked" not in err, err
        assert p.returncode == 0, err
        reports.append(json.loads(out))
        assert reports[-1]["rounds"] == rounds
    # The two writers really ran at the same time.
    overlap = min(r["end"] for r in reports) - max(r["start"] for r in reports)
    assert overlap > 0, reports
    with Store(db) as s:
        assert s.applied_migrations() == ALL_MIGRATIONS
        assert count(s, "fetches") == 2 * rounds
        assert count(s, "price_history") == 2 * rounds
        for name in ("alpha", "beta"):
            assert count(s, "fetches", "provider = ?", (name,)) == rounds
            assert count(s, "price_history", "provider = ?", (name,)) == rounds
            cached = s.cached_offers(name)
            assert cached is not None
            last = rounds - 1
            assert ids(cached.offers) == [f"{name}:{last}-{k}" for k in range(3)]
            assert cached.fetched_at == datetime(2026, 9, 1, tzinfo=UTC) + timedelta(seconds=last)
        assert count(s, "offers") == 6
    spans = ", ".join(f"{r['provider']} {r['end'] - r['start']:.2f}s" for r in reports)
    print(f"two-process write: {elapsed:.2f}s total, {spans}, overlap {overlap:.2f}s")


def test_processes_opening_a_brand_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(WORKER), "open-race", str(tmp_path), "2", "100"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["opens"] == 200
    assert report["failed"] == 0, report["errors"]
