"""Local state in SQLite through sqlite-utils: the only module that speaks SQL.

The database runs in WAL mode with a busy timeout, and every write takes the write lock up
front (``BEGIN IMMEDIATE``) so that concurrent CLI processes queue instead of failing with
"database is locked" when a read transaction tries to upgrade. Migrations are numbered
functions applied in order, once, inside the same kind of transaction; the names of the
applied ones live in ``_migrations``.

Nothing secret is ever stored here.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpubroker.errors import StoreError
from gpubroker.models import Offer, ProviderStatus, Source

if TYPE_CHECKING:
    from sqlite_utils import Database

Clock = Callable[[], datetime]
BUSY_TIMEOUT_MS = 30_000

Migration = Callable[["Database"], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    """Register a migration; they run in definition order."""
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_offers_cache(db: Database) -> None:
    db.table("offers").create(
        {
            "id": str,
            "provider": str,
            "gpu_model": str,
            "spot": int,
            "price_per_hour_usd": float,
            "fetched_at": str,
            "data": str,
        },
        pk="id",
    )
    db.table("offers").create_index(["provider"])
    db.table("offers").create_index(["gpu_model"])


@migration
def m002_fetches(db: Database) -> None:
    db.table("fetches").create(
        {
            "id": int,
            "provider": str,
            "started_at": str,
            "status": str,
            "count": int,
            "latency_ms": float,
            "message": str,
            "truncated": int,
        },
        pk="id",
    )
    db.table("fetches").create_index(["provider", "started_at"])


@migration
def m003_price_history(db: Database) -> None:
    db.table("price_history").create(
        {
            "id": int,
            "observed_at": str,
            "provider": str,
            "gpu_model": str,
            "spot": int,
            "n": int,
            "min_usd": float,
            "p10_usd": float,
            "median_usd": float,
            "p90_usd": float,
            "max_usd": float,
        },
        pk="id",
    )
    db.table("price_history").create_index(["gpu_model", "observed_at"])


@migration
def m004_fetch_skips(db: Database) -> None:
    """Rows a provider returned that did not become offers, by reason (JSON)."""
    db.table("fetches").add_column("skipped", str)


@migration
def m006_subscriptions(db: Database) -> None:
    """Non-secret state of hosted-API subscriptions (the API key lives in the keyring).

    (m005 is the typed offers cache.)
    """
    db.table("subscriptions").create(
        {
            "subscription_id": str,
            "profile": str,
            "email": str,
            "name": str,
            "plan": str,
            "status": str,
            "country": str,
            "tax_id": str,
            "pod_id": str,
            "pod_url": str,
            "order_id": str,
            "transaction_id": str,
            "amount_usd": float,
            "tokens_remaining": int,
            "created_at": str,
            "updated_at": str,
            "expires_at": str,
            "activated_at": str,
        },
        pk="subscription_id",
    )
    db.table("subscriptions").create_index(["profile", "updated_at"])


#: The columns of ``subscriptions`` (m006); nothing secret among them.
SUBSCRIPTION_COLUMNS = (
    "subscription_id", "profile", "email", "name", "plan", "status", "country", "tax_id",
    "pod_id", "pod_url", "order_id", "transaction_id", "amount_usd", "tokens_remaining",
    "created_at", "updated_at", "expires_at", "activated_at",
)  # fmt: skip


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def _parse_iso(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CachedOffers:
    """A provider's cached offers and when they were fetched."""

    provider: str
    fetched_at: datetime
    offers: list[Offer]

    def age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.fetched_at).total_seconds())


def _percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 1]) of already sorted values."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = q * (len(sorted_values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize_prices(offers: Iterable[Offer]) -> list[dict[str, Any]]:
    """Per (provider, gpu_model, spot): n, min, p10, median, p90, max of $/GPU-hour."""
    groups: dict[tuple[str, str, bool], list[float]] = {}
    for o in offers:
        groups.setdefault((o.provider, o.gpu_model, o.spot), []).append(o.price_per_gpu_hour_usd)
    rows = []
    for (provider, gpu_model, spot), prices in sorted(groups.items()):
        prices.sort()
        rows.append(
            {
                "provider": provider,
                "gpu_model": gpu_model,
                "spot": int(spot),
                "n": len(prices),
                "min_usd": prices[0],
                "p10_usd": round(_percentile(prices, 0.10), 6),
                "median_usd": round(statistics.median(prices), 6),
                "p90_usd": round(_percentile(prices, 0.90), 6),
                "max_usd": prices[-1],
            }
        )
    return rows


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, retrying: SQLite does not apply the busy handler to this pragma, so
    several processes opening a brand-new file at once can get SQLITE_BUSY immediately."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


class Store:
    """The gpubroker database.

    Args:
        path: database file (``:memory:`` for tests).
        now: clock used for every timestamp and TTL check.
    """

    def __init__(self, path: Path | str, *, now: Clock | None = None) -> None:
        from sqlite_utils import Database

        self.path = path
        self.now: Clock = now or (lambda: datetime.now(UTC))
        try:
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if str(path) != ":memory:":
                _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            self.db = Database(conn)
            self.migrate()
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open database {path}: {exc}",
                hint=f"it holds only a cache and price history: move {path} aside and retry",
            ) from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[Database]:
        """One write transaction holding the write lock from its start."""
        conn = self.db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"database {self.path} is busy: {exc}") from None
        try:
            yield self.db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def migrate(self) -> list[str]:
        """Apply pending migrations (idempotent, safe with concurrent processes)."""
        applied_now: list[str] = []
        with self.write() as db:
            db.table("_migrations").create(
                {"name": str, "applied_at": str}, pk="name", if_not_exists=True
            )
            done = {row["name"] for row in db.table("_migrations").rows}
            for name, fn in MIGRATIONS:
                if name in done:
                    continue
                fn(db)
                db.table("_migrations").insert({"name": name, "applied_at": _iso(self.now())})
                applied_now.append(name)
        return applied_now

    def applied_migrations(self) -> list[str]:
        return [row["name"] for row in self.db.table("_migrations").rows_where(order_by="name")]

    # --- offers cache ---------------------------------------------------------------

    def save_offers(self, provider: str, offers: list[Offer], fetched_at: datetime) -> None:
        """Replace a provider's cached offers atomically and append its price history."""
        stamp = _iso(fetched_at)
        rows = [
            {
                "id": o.id,
                "provider": provider,
                "gpu_model": o.gpu_model,
                "spot": int(o.spot),
                "price_per_hour_usd": o.price_per_hour_usd,
                "fetched_at": stamp,
                "data": o.model_dump_json(),
            }
            for o in offers
        ]
        history = [dict(row, observed_at=stamp) for row in summarize_prices(offers)]
        with self.write() as db:
            db.table("offers").delete_where("provider = ?", [provider])
            if rows:
                db.table("offers").insert_all(rows, pk="id", replace=True)
            if history:
                db.table("price_history").insert_all(history)

    def cached_offers(self, provider: str) -> CachedOffers | None:
        """The last offers saved for a provider, marked ``source=cache``."""
        rows = list(self.db.table("offers").rows_where("provider = ?", [provider]))
        if not rows:
            fetch = self.last_fetch(provider, ok_only=True)
            if fetch is None:
                return None
            return CachedOffers(provider, _parse_iso(fetch["started_at"]), [])
        fetched_at = max(_parse_iso(r["fetched_at"]) for r in rows)
        offers = []
        for r in rows:
            data = json.loads(r["data"])
            data["source"] = Source.CACHE.value
            offers.append(Offer.model_validate(data))
        return CachedOffers(provider, fetched_at, offers)

    def get_offer(self, offer_id: str) -> Offer | None:
        rows = list(self.db.table("offers").rows_where("id = ?", [offer_id], limit=1))
        if not rows:
            return None
        data = json.loads(rows[0]["data"])
        data["source"] = Source.CACHE.value
        return Offer.model_validate(data)

    def offer_ids(self) -> list[str]:
        """Every cached offer id."""
        return [row[0] for row in self.db.execute("SELECT id FROM offers")]

    # --- fetch log ------------------------------------------------------------------

    def record_fetch(self, status: ProviderStatus, started_at: datetime) -> None:
        with self.write() as db:
            db.table("fetches").insert(
                {
                    "provider": status.provider,
                    "started_at": _iso(started_at),
                    "status": status.status.value,
                    "count": status.count,
                    "latency_ms": status.latency_ms,
                    "message": status.message,
                    "truncated": int(status.truncated),
                    "skipped": json.dumps(status.skipped, sort_keys=True),
                }
            )

    def last_fetch(self, provider: str, *, ok_only: bool = False) -> dict[str, Any] | None:
        where = "provider = ?" + (" and status = 'ok'" if ok_only else "")
        rows = list(
            self.db.table("fetches").rows_where(
                where, [provider], order_by="started_at desc", limit=1
            )
        )
        if not rows:
            return None
        row = dict(rows[0])
        try:
            skipped = json.loads(row.get("skipped") or "{}")
        except ValueError:
            skipped = {}
        row["skipped"] = skipped if isinstance(skipped, dict) else {}
        return row

    # --- subscriptions --------------------------------------------------------------

    def current_subscription(self, profile: str) -> dict[str, Any] | None:
        """The profile's most recently updated subscription row, if any."""
        rows = list(
            self.db.table("subscriptions").rows_where(
                "profile = ?", [profile], order_by="updated_at desc", limit=1
            )
        )
        return dict(rows[0]) if rows else None

    def subscription(self, subscription_id: str) -> dict[str, Any] | None:
        """One subscription row by id."""
        rows = list(
            self.db.table("subscriptions").rows_where(
                "subscription_id = ?", [subscription_id], limit=1
            )
        )
        return dict(rows[0]) if rows else None

    def subscriptions(self, profile: str, **match: Any) -> list[dict[str, Any]]:
        """The profile's subscription rows, most recently updated first.

        Args:
            match: column = value filters (e.g. ``order_id=...``, ``status=...``).
        """
        unknown = set(match) - set(SUBSCRIPTION_COLUMNS)
        if unknown:
            raise ValueError(f"unknown subscription columns: {sorted(unknown)}")
        where = " and ".join(["profile = ?", *(f"[{key}] = ?" for key in match)])
        return [
            dict(row)
            for row in self.db.table("subscriptions").rows_where(
                where, [profile, *match.values()], order_by="updated_at desc, rowid desc"
            )
        ]

    def save_subscription(
        self, row: dict[str, Any], *, previous_id: str | None = None
    ) -> dict[str, Any]:
        """Insert or update one subscription row and return it as stored.

        Values that are None leave what is stored alone; keys that are not columns are
        ignored (nothing secret has a column). ``updated_at`` is stamped, ``created_at`` set
        once. With ``previous_id``, the row stored under that id (a local draft) is merged
        in and renamed to ``row["subscription_id"]``, in the same transaction.
        """
        new_id = row["subscription_id"]
        now = _iso(self.now())
        with self.write() as db:
            table = db.table("subscriptions")
            merged: dict[str, Any] = {}
            for old in dict.fromkeys([previous_id, new_id]):
                if old is None:
                    continue
                found = list(table.rows_where("subscription_id = ?", [old], limit=1))
                if found:
                    merged.update({k: v for k, v in dict(found[0]).items() if v is not None})
                    if old != new_id:
                        table.delete(old)
            merged.update(
                {k: v for k, v in row.items() if k in SUBSCRIPTION_COLUMNS and v is not None}
            )
            merged["subscription_id"] = new_id
            merged.setdefault("created_at", now)
            merged["updated_at"] = now
            table.upsert(merged, pk="subscription_id")
        return merged

    # --- price history --------------------------------------------------------------

    def price_history(
        self, gpu_models: Iterable[str], *, provider: str | None = None, days: float = 30
    ) -> list[dict[str, Any]]:
        names = sorted(set(gpu_models))
        if not names:
            return []
        since = _iso(self.now() - timedelta(days=days))
        where = f"gpu_model in ({', '.join('?' for _ in names)}) and observed_at >= ?"
        params: list[Any] = [*names, since]
        if provider:
            where += " and provider = ?"
            params.append(provider)
        return [
            dict(row, spot=bool(row["spot"]))
            for row in self.db.table("price_history").rows_where(
                where, params, order_by="observed_at, provider, gpu_model, spot"
            )
        ]
