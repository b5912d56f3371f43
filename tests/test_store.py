"""Store: migrations, WAL, the offers cache, the fetch log, and concurrent processes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpubroker import render
from gpubroker import store as store_mod
from gpubroker.errors import UsageError
from gpubroker.models import Availability, Offer, ProviderState, ProviderStatus, Query, Source
from gpubroker.providers.base import make_offer
from gpubroker.ranking import compile_query, pushdown
from gpubroker.rows import OFFER_FIELDS, OfferLike, RankedRow
from gpubroker.store import Store
from tests.strategies import as_cached_before, offers

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


def ids(offers: Sequence[OfferLike]) -> list[str]:
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
    store.save_offers("a", [offer("a", "1"), offer("a", "2")], T0)
    history_before = count(store, "price_history")
    real_values = store_mod._OfferWriter.values

    def values(self: Any, o: Offer, provider: str) -> tuple[Any, ...]:
        if o.id == "a:4":  # the second row: the first is already inserted
            raise RuntimeError("disk full")
        return real_values(self, o, provider)

    monkeypatch.setattr(store_mod._OfferWriter, "values", values)
    with pytest.raises(RuntimeError, match="disk full"):
        store.save_offers("a", [offer("a", "3"), offer("a", "4")], T0 + timedelta(minutes=1))
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
    assert got.to_offer() == original.model_copy(update={"source": Source.CACHE})


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


@pytest.mark.parametrize(
    "damage",
    [
        "price_per_hour_usd = 0",
        "price_per_gpu_hour_usd = -1",
        "gpu_count = 0",
        "price_per_hour_usd = 9e999",
    ],
)
def test_a_row_that_no_longer_makes_an_offer_is_left_out_of_get_offer_too(
    store: Store, damage: str
) -> None:
    """Cache reads leave out rows that cannot be an offer (written by an older version, or
    edited by hand); looking one up by id says "no such offer" too, never a pydantic error."""
    store.save_offers("p", [offer("p", "x", 5.0), offer("p", "y")], T0)
    store.conn.execute(f"UPDATE offers SET {damage} WHERE id = 'p:x'")
    store.conn.commit()

    assert store.get_offer("p:x") is None
    cached = store.cached_offers("p")
    assert cached is not None and [o.id for o in cached.offers] == ["p:y"]


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


# --- the typed offers cache (m005) and push-down ------------------------------------------


OLD_MIGRATIONS = ["m001_offers_cache", "m002_fetches", "m003_price_history", "m004_fetch_skips"]


def old_shape_database(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """A database as versions before m005 left it: the JSON ``data`` offers table.

    ``rows`` are ``(id, provider, data, fetched_at)``; the other old columns are filled
    from ``data`` the way the old writer did.
    """
    from sqlite_utils import Database

    db = Database(path)
    db.table("_migrations").create({"name": str, "applied_at": str}, pk="name")
    for name, fn in store_mod.MIGRATIONS:
        if name in OLD_MIGRATIONS:
            fn(db)
            db.table("_migrations").insert({"name": name, "applied_at": T0.isoformat()})
    for offer_id, provider, data, fetched_at in rows:
        try:
            decoded = json.loads(data)
        except ValueError:
            decoded = {}
        if not isinstance(decoded, dict):
            decoded = {}
        db.table("offers").insert(
            {
                "id": offer_id,
                "provider": provider,
                "gpu_model": decoded.get("gpu_model", "?"),
                "spot": int(bool(decoded.get("spot"))),
                "price_per_hour_usd": decoded.get("price_per_hour_usd", 0.0),
                "fetched_at": fetched_at,
                "data": data,
            }
        )
    db.close()


def old_row(o: Offer, fetched_at: datetime = T0) -> tuple[str, str, str, str]:
    return (o.id, o.provider, o.model_dump_json(), fetched_at.isoformat())


OLD_OFFERS = [
    offer("vastai", "1:ondemand", 0.4, gpu="RTX 4090", count=2, memory=24, region="Texas, US",
          country="US", reliability=0.9981, cuda_version="12.8",
          extras={"offer_id": 1, "dlperf": 75.2, "nested": {"a": [1, None, "x"]}}),
    offer("vastai", "1:spot", 0.2, gpu="RTX 4090", spot=True, region="Québec, CA 🍁",
          availability=Availability.UNAVAILABLE),
    offer("vastai", "odd\tid\x00", 3.0, gpu="Unknown GPU 9000", memory=None, vcpus=12.5,
          instance_type="t\u202ebidi", extras={}),
    make_offer(provider="vastai", native_id="us", gpu_name_raw="H100 SXM", gpu_count=8,
               price_per_hour_usd=19.9, observed_at=datetime(2026, 9, 1, 12, 0, 0, 123456, UTC),
               source_url="https://vast.ai/pricing", availability=Availability.LIMITED),
    offer("lambda", "gpu_1x_a10", 1.29, gpu="A10 24GB"),
]  # fmt: skip


def test_m005_converts_an_old_cache_without_losing_a_row(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    fetched = T0 - timedelta(minutes=7)
    old_shape_database(path, [old_row(o, fetched) for o in OLD_OFFERS])

    with Store(path, now=lambda: T0) as s:
        assert s.applied_migrations() == ALL_MIGRATIONS
        assert count(s, "offers") == len(OLD_OFFERS)
        for provider in ("vastai", "lambda"):
            cached = s.cached_offers(provider)
            assert cached is not None
            assert cached.fetched_at == fetched
            expected = {o.id: as_cached_before(o) for o in OLD_OFFERS if o.provider == provider}
            assert {r.id: r.to_offer() for r in cached.offers} == expected
            assert cached.total == len(expected)
        assert s.get_offer(OLD_OFFERS[3].id) == as_cached_before(OLD_OFFERS[3])
        assert "data" not in {c.name for c in s.db.table("offers").columns}


@settings(max_examples=60, deadline=None)
@given(old=st.lists(offers("vastai"), max_size=6, unique_by=lambda o: o.id))
def test_m005_property_every_old_offer_comes_back_identical(old: list[Offer]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "old.sqlite"
        old_shape_database(path, [old_row(o) for o in old])
        with Store(path, now=lambda: T0) as s:
            cached = s.cached_offers("vastai")
            if not old:
                assert cached is None
                return
            assert cached is not None
            assert sorted((r.to_offer() for r in cached.offers), key=lambda o: o.id) == sorted(
                (as_cached_before(o) for o in old), key=lambda o: o.id
            )


def test_m005_drops_only_rows_that_could_never_be_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.sqlite"
    good = OLD_OFFERS[0]
    old_shape_database(
        path,
        [
            old_row(good),
            ("vastai:broken", "vastai", "{not json", T0.isoformat()),
            ("vastai:list", "vastai", "[1, 2]", T0.isoformat()),
            ("vastai:partial", "vastai", json.dumps({"id": "vastai:partial"}), T0.isoformat()),
        ],
    )
    with caplog.at_level("WARNING", logger="gpubroker.store"), Store(path) as s:
        cached = s.cached_offers("vastai")
        assert cached is not None
        assert [r.to_offer() for r in cached.offers] == [as_cached_before(good)]
    assert sorted(m for m in caplog.messages if "m005" in m) == [
        f"m005: dropped cached offer {i!r}: its JSON is not an offer"
        for i in ("vastai:broken", "vastai:list", "vastai:partial")
    ]


def test_offers_are_typed_columns_with_indexes_for_the_filters(store: Store) -> None:
    columns = {c.name: c.type for c in store.db.table("offers").columns}
    assert list(columns) == [*OFFER_FIELDS, "fetched_at"]
    assert columns["gpu_count"] == "INTEGER" and columns["spot"] == "INTEGER"
    assert columns["price_per_hour_usd"] == "REAL" and columns["extras"] == "TEXT"
    indexes = {tuple(i.columns) for i in store.db.table("offers").indexes}
    assert {
        ("provider", "fetched_at"),
        ("provider", "gpu_model", "gpu_count"),
        ("provider", "price_per_hour_usd"),
        ("provider", "price_per_gpu_hour_usd"),
    } <= indexes


def query_plan(store: Store, query: Query) -> str:
    where, params = store_mod._pushdown_sql(pushdown(query))
    sql = f"SELECT id FROM offers WHERE provider = ?{where}"
    plan = store.conn.execute(f"EXPLAIN QUERY PLAN {sql}", ["p", *params]).fetchall()
    return " ".join(str(row[-1]) for row in plan)


def test_gpu_and_price_filters_read_through_an_index(store: Store) -> None:
    gpu = query_plan(store, Query(gpus=["h100"], min_gpus=2))
    assert "USING INDEX idx_offers_provider_gpu" in gpu
    assert "SCAN" not in gpu
    assert "USING INDEX" in query_plan(store, Query(max_price_usd=2.0))


def test_pushdown_reads_only_rows_that_may_match(store: Store) -> None:
    rows = [
        offer("p", "h100x2", 5.0, count=2, region="us-east-1"),
        offer("p", "h100x1", 2.5, count=1, region="us-east-1"),
        offer("p", "a10", 0.5, gpu="A10", memory=24, region="EU-west-1"),
    ]
    store.save_offers("p", rows, T0)

    picked = store.cached_offers("p", pushdown(Query(gpus=["h100"], min_gpus=2)))
    assert picked is not None
    assert ids(picked.offers) == ["p:h100x2"]
    assert picked.total == 3  # the status still counts every cached offer
    cheap = store.cached_offers("p", pushdown(Query(regions=["eu-west-1"], max_price_usd=1)))
    assert cheap is not None and ids(cheap.offers) == ["p:a10"]
    none = store.cached_offers("p", pushdown(Query(spot=True)))
    assert none is not None and none.offers == [] and none.total == 3


def test_pushdown_matches_regions_case_insensitively_beyond_ascii(store: Store) -> None:
    # "K" (Kelvin sign) lower-cases to an ASCII "k" in Python, but not in SQLite's lower().
    store.save_offers(
        "p", [offer("p", "1", region="\u212aansas"), offer("p", "2", region="ÉTÉ")], T0
    )
    for wanted, expected in (("kansas", ["p:1"]), ("été", ["p:2"])):
        query = Query(regions=[wanted])
        cached = store.cached_offers("p", pushdown(query))
        assert cached is not None
        assert ids(cached.offers) == expected
        assert [o.id for o in cached.offers if compile_query(query)(o)] == expected


query_strategy = st.builds(
    Query,
    gpus=st.lists(st.sampled_from(["h100", "a100", "rtx4090", "A10", "l40s"]), max_size=2),
    min_gpus=st.none() | st.integers(1, 4),
    max_gpus=st.none() | st.integers(4, 8),
    min_vram_gib=st.none() | st.sampled_from([0.0, 24.0, 40.0, 80.0]),
    max_price_usd=st.none() | st.floats(0.01, 20),
    max_price_per_gpu_usd=st.none() | st.floats(0.01, 5),
    regions=st.lists(
        st.sampled_from(["us-east-1", "US-EAST-1", "Texas, US", "\u212a"]), max_size=2
    ),
    countries=st.lists(st.sampled_from(["us", "DE", "ca"]), max_size=2),
    spot=st.none() | st.booleans(),
    min_reliability=st.none() | st.floats(0, 1),
    min_vcpus=st.none() | st.sampled_from([0.0, 8.0, 32.0]),
    min_ram_gib=st.none() | st.sampled_from([0.0, 64.0]),
    min_disk_gib=st.none() | st.sampled_from([0.0, 100.0]),
    available_only=st.booleans(),
)
listing_strategy = st.lists(
    st.builds(
        lambda i, gpu, count, price, spot, region, country, rel, vcpus, avail: offer(
            "p",
            str(i),
            price,
            gpu=gpu,
            count=count,
            spot=spot,
            region=region,
            country=country,
            reliability=rel,
            vcpus=vcpus,
            availability=avail,
            memory=None if gpu == "Mystery" else 80,
        ),
        st.integers(0, 10**6),
        st.sampled_from(["H100 SXM", "H100 PCIe", "A100 80GB", "RTX 4090", "A10", "Mystery"]),
        st.integers(1, 8),
        st.floats(0.01, 30),
        st.booleans(),
        st.none() | st.sampled_from(["us-east-1", "Texas, US", "\u212aansas", "k"]),
        st.none() | st.sampled_from(["US", "de", "CA"]),
        st.none() | st.floats(0, 1),
        st.none() | st.sampled_from([4.0, 8.0, 64.0]),
        st.sampled_from(Availability),
    ),
    max_size=25,
    unique_by=lambda o: o.id,
)


@settings(max_examples=150, deadline=None)
@given(listing=listing_strategy, query=query_strategy)
def test_pushdown_property_never_hides_a_match(listing: list[Offer], query: Query) -> None:
    """Push-down is a hint: what it reads is a superset of the query's matches, so
    matching after it gives exactly what matching every cached offer gives."""
    try:
        predicate = compile_query(query)
    except UsageError:
        return
    with Store(":memory:", now=lambda: T0) as s:
        s.save_offers("p", listing, T0)
        everything = s.cached_offers("p")
        hinted = s.cached_offers("p", pushdown(query))
    if not listing:
        return
    assert everything is not None and hinted is not None
    truth = sorted(o.id for o in everything.offers if predicate(o))
    assert sorted(o.id for o in hinted.offers if predicate(o)) == truth
    assert {o.id for o in hinted.offers} <= {o.id for o in everything.offers}


def test_hostile_text_and_numbers_are_stored_as_the_json_cache_did(store: Store) -> None:
    hostile = offer(
        "p", "surrogate\ud800", 1.0, region="bad\udcff region", vcpus=float("inf"),
        extras={"s": "lone\ud800", "n": float("nan"), "when": datetime(2026, 1, 1)},
    )  # fmt: skip
    store.save_offers("p", [hostile, offer("p", "fine", 2.0)], T0)

    cached = store.cached_offers("p")
    assert cached is not None
    rows = {r.id: r for r in cached.offers}
    row = rows["p:surrogate\ufffd"]
    assert row.region == "bad\ufffd region"
    assert row.vcpus is None  # as model_dump_json wrote infinity: null
    assert row.extras == {"s": "lone\ufffd", "n": None, "when": "2026-01-01T00:00:00"}
    # and it renders
    assert json.loads(render.offer_jsonl(RankedRow(row, 1, 0.5, True)))["extras"]["n"] is None


def test_an_absurd_gpu_count_is_skipped_not_fatal(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    absurd = offer("p", "huge", 1.0).model_copy(update={"gpu_count": 10**30})
    with caplog.at_level("WARNING", logger="gpubroker.store"):
        store.save_offers("p", [absurd, offer("p", "fine", 2.0)], T0)
    cached = store.cached_offers("p")
    assert cached is not None and ids(cached.offers) == ["p:fine"]
    assert any("p:huge" in m for m in caplog.messages)


def test_reading_the_cache_needs_no_sqlite_utils(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    with Store(db, now=lambda: T0) as s:
        s.save_offers("p", [offer("p", "1")], T0)
    code = (
        "import sys\nfrom gpubroker.store import Store\n"
        f"s = Store({str(db)!r})\nassert len(s.cached_offers('p').offers) == 1\n"
        "assert s.cached_offers('nope') is None\n"
        "print('sqlite_utils' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
