"""State that survives: listings that collapse, caches that cannot be written, databases
that are locked, damaged, killed mid-write or unreachable, files others could read, history
that would grow forever."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from gpubroker.cli import app
from gpubroker.errors import StoreError
from gpubroker.models import Offer, ProviderState, ProviderStatus
from gpubroker.offers import collect
from gpubroker.providers import PROVIDERS
from gpubroker.providers.base import FetchResult, FetchSession, Provider, make_offer
from gpubroker.store import Store

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
runner = CliRunner()


def offers(n: int, price: float = 1.0, provider: str = "flaky") -> list[Offer]:
    made = [
        make_offer(
            provider=provider,
            native_id=f"o{i}",
            gpu_name_raw="RTX 4090",
            gpu_count=1,
            gpu_memory_gib=24,
            price_per_hour_usd=price + i / 100,
            observed_at=T0,
        )
        for i in range(n)
    ]
    return [o for o in made if o is not None]


class Flaky(Provider):
    """A provider whose next answers are queued by the test."""

    name: ClassVar[str] = "flaky"
    label: ClassVar[str] = "Flaky"
    answers: ClassVar[list[FetchResult]] = []

    def _fetch(self, session: FetchSession) -> FetchResult:
        return Flaky.answers.pop(0)


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Flaky]]:
    for name in list(PROVIDERS):
        monkeypatch.delitem(PROVIDERS, name)
    monkeypatch.setitem(PROVIDERS, "flaky", Flaky)
    Flaky.answers = []
    yield Flaky
    Flaky.answers = []


def browse(*extra: str) -> tuple[int, list[dict[str, object]], str]:
    mode = [] if "--offline" in extra else ["--fresh"]
    result = runner.invoke(
        app, ["browse", "--provider", "flaky", *mode, "--json", "--limit", "0", *extra],
        catch_exceptions=False,
    )  # fmt: skip
    rows = json.loads(result.stdout) if result.stdout.strip() else []
    return result.exit_code, rows, result.stderr


def refresh(*extra: str) -> dict[str, object]:
    result = runner.invoke(
        app, ["offers", "refresh", "--provider", "flaky", "--json", *extra],
        catch_exceptions=False,
    )  # fmt: skip
    return json.loads(result.stdout)[0]  # type: ignore[no-any-return]


# --- listings that collapse ------------------------------------------------------------------


def test_a_listing_that_drops_to_nothing_keeps_the_cache_until_confirmed(
    flaky: type[Flaky],
) -> None:
    flaky.answers = [FetchResult(offers(20)), FetchResult([]), FetchResult([])]
    assert refresh()["status"] == "ok"
    code, rows, err = browse()
    assert code == 0
    assert len(rows) == 20  # the cache, shown as cache
    assert {r["source"] for r in rows} == {"cache"}
    assert "dropped from 20 to 0 offers" in err and "--accept-empty" in err
    # a second fetch agrees: the drop is real now
    status = refresh()
    assert (status["status"], status["count"]) == ("ok", 0)
    code, rows, _ = browse("--offline")
    assert rows == [] and code == 3


def test_a_drop_of_more_than_90_percent_is_suspect_and_accept_empty_takes_it(
    flaky: type[Flaky],
) -> None:
    flaky.answers = [FetchResult(offers(50)), FetchResult(offers(2)), FetchResult(offers(2))]
    refresh()
    status = refresh()
    assert status["status"] == ProviderState.SUSPECT.value
    assert status["count"] == 50  # the kept cache
    status = refresh("--accept-empty")
    assert (status["status"], status["count"]) == ("ok", 2)


def test_a_small_or_modest_change_is_just_taken(flaky: type[Flaky]) -> None:
    flaky.answers = [FetchResult(offers(50)), FetchResult(offers(10)), FetchResult(offers(5))]
    refresh()
    assert refresh()["count"] == 10  # an 80 % drop is a market, not a collapse
    assert refresh()["status"] == "ok"  # 10 → 5 is below the size worth guarding


def test_a_listing_whose_every_row_was_rejected_is_a_payload_error(flaky: type[Flaky]) -> None:
    flaky.answers = [FetchResult(offers(5)), FetchResult([], skipped={"no price": 7})]
    refresh()
    status = refresh()
    assert status["status"] == "error"
    assert "every one of the 7 rows it returned was rejected (no price 7)" in str(status["message"])
    _, rows, _ = browse("--offline")
    assert len(rows) == 5  # the good cache is still there


# --- caches that cannot be written ----------------------------------------------------------


def test_a_locked_database_costs_the_cache_not_the_offers(
    flaky: type[Flaky], hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect, "CACHE_WRITE_TIMEOUT_S", 0.2)
    flaky.answers = [FetchResult(offers(3))]
    assert runner.invoke(app, ["browse", "--offline", "--json"]).exit_code in (0, 3)  # creates
    holder = sqlite3.connect(hermetic_env / "gpubroker.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        started = time.monotonic()
        code, rows, err = browse()
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 0
    assert len(rows) == 3 and {r["source"] for r in rows} == {"live"}
    assert "offers shown live but not cached" in err
    assert elapsed < 10


def test_reads_do_not_wait_for_a_writer(hermetic_env: Path) -> None:
    assert runner.invoke(app, ["browse", "--offline", "--json"]).exit_code == 0
    holder = sqlite3.connect(hermetic_env / "gpubroker.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        result = runner.invoke(app, ["browse", "--offline", "--json", "--limit", "3"])
        assert time.monotonic() - started < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 0 and len(json.loads(result.stdout)) == 3


def test_an_unusable_home_still_browses_the_catalog_and_lists_gpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("GPUBROKER_HOME", str(blocker / "home"))
    result = runner.invoke(app, ["browse", "--offline", "--json", "--limit", "2"])
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2
    assert "working without the cache" in result.stderr
    assert runner.invoke(app, ["gpus", "h100", "--json"]).exit_code == 0
    assert runner.invoke(app, ["config", "show", "--json"]).exit_code == 0


def test_garbage_in_the_middle_of_the_database_is_a_clear_error(hermetic_env: Path) -> None:
    hermetic_env.mkdir(parents=True, exist_ok=True)
    with Store(hermetic_env / "gpubroker.db", now=lambda: T0) as store:
        store.save_offers("flaky", offers(400), T0)
    db = hermetic_env / "gpubroker.db"
    data = bytearray(db.read_bytes())
    page = 4096
    for start in range(page * 2, len(data) - page, page):  # every page but the header's
        data[start + 8 : start + 600] = os.urandom(592)
    db.write_bytes(bytes(data))
    for wal in hermetic_env.glob("gpubroker.db-*"):
        wal.unlink()
    result = runner.invoke(app, ["offers", "show", "flaky:o1", "--json"])
    assert result.exit_code in (1, 3)
    assert "internal error" not in result.stderr
    if result.exit_code == 1:
        assert "damaged" in result.stderr or "malformed" in result.stderr


# --- killed mid-write, files, retention -------------------------------------------------------

WRITER = """
import sys
from datetime import UTC, datetime
sys.path.insert(0, {root!r})
from gpubroker.store import Store
from tests.test_state import offers
store = Store({db!r})
print("ready", flush=True)
n = 0
while True:
    n += 1
    store.save_offers("churn", offers(2000, 1 + n, "churn"), datetime.now(UTC))
"""


def test_a_process_killed_mid_write_leaves_a_database_with_its_earlier_rows(
    hermetic_env: Path,
) -> None:
    hermetic_env.mkdir(parents=True, exist_ok=True)
    db = hermetic_env / "gpubroker.db"
    with Store(db) as store:
        store.save_offers("stable", offers(50, provider="stable"), T0)
    root = str(Path(__file__).parent.parent)
    with subprocess.Popen(
        [sys.executable, "-c", WRITER.format(root=root, db=str(db))],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    ) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            time.sleep(1.0)  # several listings written, one surely half-way
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    with Store(db) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stable = store.cached_offers("stable")
        assert stable is not None and stable.total == 50
        churn = store.cached_offers("churn")
        assert churn is None or churn.total in (0, 2000)  # whole listings only


def test_database_and_wal_are_private_files(hermetic_env: Path) -> None:
    assert runner.invoke(app, ["browse", "--offline", "--json"]).exit_code == 0
    for name in ("gpubroker.db", "gpubroker.db-wal", "gpubroker.db-shm"):
        path = hermetic_env / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_an_existing_world_readable_database_is_tightened(hermetic_env: Path) -> None:
    hermetic_env.mkdir(parents=True, exist_ok=True)
    db = hermetic_env / "gpubroker.db"
    sqlite3.connect(db).close()
    db.chmod(0o644)
    with Store(db):
        pass
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_history_and_fetch_log_are_pruned_after_history_days(hermetic_env: Path) -> None:
    clock = {"now": T0}
    hermetic_env.mkdir(parents=True, exist_ok=True)
    with Store(hermetic_env / "db.sqlite", now=lambda: clock["now"]) as store:
        for day in range(10):
            moment = T0 + timedelta(days=day * 20)
            clock["now"] = moment
            store.record_fetch(ProviderStatus(provider="p", status=ProviderState.OK), moment)
            store.save_offers("p", offers(3), moment, keep_days=90)
        oldest_history = store.conn.execute("SELECT min(observed_at) FROM price_history").fetchone()
        oldest_fetch = store.conn.execute("SELECT min(started_at) FROM fetches").fetchone()
    cutoff = (clock["now"] - timedelta(days=90)).isoformat()
    assert oldest_history[0] >= cutoff and oldest_fetch[0] >= cutoff


def test_store_errors_never_escape_as_sqlite_errors(hermetic_env: Path) -> None:
    hermetic_env.mkdir(parents=True, exist_ok=True)
    with Store(hermetic_env / "db.sqlite") as store:
        store.conn.execute("DROP TABLE fetches")
        with pytest.raises(StoreError):
            store.last_fetch("p")
