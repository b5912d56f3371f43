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

from gpubroker.errors import RefusedError, StoreError
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


@migration
def m007_pods(db: Database) -> None:
    """POD configs, the POD journal, every POD state change, and an audit of billable actions.

    A POD's name is unique among PODs that are not failed or destroyed (partial index).
    """
    db.table("pod_configs").create(
        {
            "id": str,
            "name": str,
            "description": str,
            "status": str,
            "gpu_type": str,
            "gpu_model": str,
            "gpu_count": int,
            "gpu_memory_gib": float,
            "provider_selection_mode": str,
            "provider": str,
            "provider_offer_id": str,
            "vcpus": float,
            "ram_gib": float,
            "storage_gib": float,
            "storage_type": str,
            "network_speed_gbps": float,
            "public_ip": int,
            "region": str,
            "availability_zone": str,
            "spot_instance": int,
            "max_spot_price_usd": float,
            "image": str,
            "cpu_units": int,
            "memory_mib": int,
            "budget_per_hour_usd": float,
            "budget_per_month_usd": float,
            "estimated_price_per_hour_usd": float,
            "estimated_price_per_day_usd": float,
            "estimated_price_per_month_usd": float,
            "currency": str,
            "is_valid": int,
            "validation_errors": str,
            "tags": str,
            "metadata": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db.table("pod_configs").create_index(["name"], unique=True)
    db.table("pods").create(
        {
            "pod_id": str,
            "name": str,
            "status": str,
            "owner": str,
            "plan": str,
            "offer_id": str,
            "provider": str,
            "gpu_model": str,
            "gpu_count": int,
            "spot": int,
            "offer_region": str,
            "price_per_hour_usd": float,
            "offer_price_per_hour_usd": float,
            "fargate_price_per_hour_usd": float,
            "budget_per_hour_usd": float,
            "budget_per_month_usd": float,
            "image": str,
            "cpu_units": int,
            "memory_mib": int,
            "region": str,
            "cluster": str,
            "service_name": str,
            "service_arn": str,
            "task_definition_arn": str,
            "log_group": str,
            "config_id": str,
            "config_name": str,
            "desired_count": int,
            "running_count": int,
            "pending_count": int,
            "task_arn": str,
            "public_ip": str,
            "private_ip": str,
            "last_error": str,
            "offer_json": str,
            "deploy_request": str,
            "deploy_pid": int,
            "deploy_host": str,
            "created_at": str,
            "updated_at": str,
            "started_at": str,
            "stopped_at": str,
            "destroyed_at": str,
            "last_synced_at": str,
        },
        pk="pod_id",
    )
    db.execute(
        "CREATE UNIQUE INDEX idx_pods_live_name ON pods(name)"
        " WHERE status NOT IN ('failed', 'destroyed')"
    )
    db.table("pods").create_index(["status"])
    db.table("pod_events").create(
        {
            "id": int,
            "pod_id": str,
            "at": str,
            "kind": str,
            "old_status": str,
            "new_status": str,
            "message": str,
        },
        pk="id",
    )
    db.table("pod_events").create_index(["pod_id", "at"])
    db.table("audit").create(
        {
            "id": int,
            "at": str,
            "action": str,
            "pod_id": str,
            "name": str,
            "actor": str,
            "owner": str,
            "outcome": str,
            "price_per_hour_usd": float,
            "message": str,
        },
        pk="id",
    )
    db.table("audit").create_index(["at"])


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

    # --- pod configs ----------------------------------------------------------------

    def insert_pod_config(self, row: dict[str, Any]) -> None:
        """Store a new config.

        Raises:
            RefusedError: another config already has this name.
        """
        with self.write() as db:
            if self._config_named(db, row["name"]) is not None:
                raise RefusedError(
                    f"a config named {row['name']!r} already exists",
                    hint="pick another name, or change it with `gpubroker configs update`",
                )
            db.table("pod_configs").insert(row)

    @staticmethod
    def _config_named(db: Database, name: str) -> dict[str, Any] | None:
        rows = list(db.table("pod_configs").rows_where("name = ?", [name], limit=1))
        return dict(rows[0]) if rows else None

    def pod_config(self, id_or_name: str) -> dict[str, Any] | None:
        """A config by exact id, else by name."""
        rows = list(self.db.table("pod_configs").rows_where("id = ?", [id_or_name], limit=1))
        if rows:
            return dict(rows[0])
        return self._config_named(self.db, id_or_name)

    def pod_configs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.table("pod_configs").rows_where(order_by="name")]

    def update_pod_config(self, config_id: str, changes: dict[str, Any]) -> None:
        """Change a config's columns.

        Raises:
            RefusedError: a new name that another config already has.
        """
        with self.write() as db:
            new_name = changes.get("name")
            if new_name is not None:
                other = self._config_named(db, new_name)
                if other is not None and other["id"] != config_id:
                    raise RefusedError(f"a config named {new_name!r} already exists")
            db.table("pod_configs").update(config_id, changes)

    def delete_pod_config(self, config_id: str) -> None:
        with self.write() as db:
            db.table("pod_configs").delete_where("id = ?", [config_id])

    # --- pods -----------------------------------------------------------------------

    def _event(
        self, db: Database, pod_id: str, kind: str, old: Any, new: Any, message: str
    ) -> None:
        db.table("pod_events").insert(
            {
                "pod_id": pod_id,
                "at": _iso(self.now()),
                "kind": kind,
                "old_status": old,
                "new_status": new,
                "message": message,
            }
        )

    def insert_pod(self, row: dict[str, Any], *, kind: str, message: str) -> None:
        """Record a new POD (a deploy's intent, or one adopted from ECS) and its first event.

        Raises:
            RefusedError: a live POD already has this name.
        """
        stamp = _iso(self.now())
        row = {"created_at": stamp, **row, "updated_at": stamp}
        with self.write() as db:
            live = self._live_pod_named(db, row["name"])
            if live is not None:
                raise RefusedError(
                    f"the name {row['name']!r} is in use by POD {live['pod_id']} "
                    f"({live['status']})",
                    hint="pick another name, or destroy that POD first",
                )
            try:
                db.table("pods").insert(row)
            except sqlite3.IntegrityError as exc:
                raise RefusedError(f"cannot record POD {row['pod_id']}: {exc}") from None
            self._event(db, row["pod_id"], kind, None, row["status"], message)

    @staticmethod
    def _live_pod_named(db: Database, name: str) -> dict[str, Any] | None:
        rows = list(
            db.table("pods").rows_where(
                "name = ? and status not in ('failed', 'destroyed')", [name], limit=1
            )
        )
        return dict(rows[0]) if rows else None

    def update_pod(
        self,
        pod_id: str,
        changes: dict[str, Any],
        *,
        kind: str = "updated",
        message: str = "",
        record: bool = False,
    ) -> dict[str, Any]:
        """Change a POD's columns; a status change (or ``record``) is written to pod_events.

        Returns:
            The row after the change.
        """
        with self.write() as db:
            rows = list(db.table("pods").rows_where("pod_id = ?", [pod_id], limit=1))
            if not rows:
                raise StoreError(f"no POD {pod_id} in the journal")
            old = rows[0]["status"]
            new = changes.get("status", old)
            db.table("pods").update(pod_id, {**changes, "updated_at": _iso(self.now())})
            if new != old or record:
                self._event(db, pod_id, kind, old, new, message)
            return dict(db.table("pods").get(pod_id))

    def add_pod_event(self, pod_id: str, kind: str, message: str) -> None:
        """Record something that happened to a POD without a state change."""
        with self.write() as db:
            status = db.table("pods").get(pod_id)["status"]
            self._event(db, pod_id, kind, status, status, message)

    def pod(self, pod_id: str) -> dict[str, Any] | None:
        rows = list(self.db.table("pods").rows_where("pod_id = ?", [pod_id], limit=1))
        return dict(rows[0]) if rows else None

    def pods_named(self, name: str) -> list[dict[str, Any]]:
        """PODs with this name, newest first (at most one of them is live)."""
        return [
            dict(r)
            for r in self.db.table("pods").rows_where(
                "name = ?", [name], order_by="created_at desc"
            )
        ]

    def pods(self, statuses: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """PODs, oldest first, optionally only those in the given states."""
        wanted = sorted(set(statuses or ()))
        if wanted:
            where = f"status in ({', '.join('?' for _ in wanted)})"
            rows = self.db.table("pods").rows_where(where, wanted, order_by="created_at")
        else:
            rows = self.db.table("pods").rows_where(order_by="created_at")
        return [dict(r) for r in rows]

    def count_live_pods(self, owner: str) -> int:
        return int(
            self.db.execute(
                "select count(*) from pods where owner = ?"
                " and status not in ('failed', 'destroyed')",
                [owner],
            ).fetchone()[0]
        )

    def pod_events(self, pod_id: str) -> list[dict[str, Any]]:
        """A POD's history, oldest first."""
        return [
            dict(r)
            for r in self.db.table("pod_events").rows_where(
                "pod_id = ?", [pod_id], order_by="at, id"
            )
        ]

    def record_audit(self, row: dict[str, Any]) -> None:
        """Append one billable or destructive action to the audit table."""
        with self.write() as db:
            db.table("audit").insert({"at": _iso(self.now()), **row})

    def audit_log(self, pod_id: str | None = None) -> list[dict[str, Any]]:
        if pod_id is None:
            rows = self.db.table("audit").rows_where(order_by="at, id")
        else:
            rows = self.db.table("audit").rows_where("pod_id = ?", [pod_id], order_by="at, id")
        return [dict(r) for r in rows]

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
