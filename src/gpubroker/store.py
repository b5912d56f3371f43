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
import functools
import inspect
import json
import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from gpubroker.errors import RefusedError, StoreError
from gpubroker.models import Offer, ProviderStatus
from gpubroker.rows import OFFER_FIELDS, OfferRow, from_db_rows

if TYPE_CHECKING:
    from sqlite_utils import Database

    from gpubroker.ranking.filters import Pushdown

_log = logging.getLogger(__name__)

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


#: The typed offers cache (m005): one column per `Offer` field, in `OFFER_FIELDS` order,
#: ``extras`` as JSON text, then ``fetched_at`` (when the listing was saved).
_OFFERS_TYPED_DDL = """
CREATE TABLE {name} (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    instance_type TEXT,
    gpu_model TEXT NOT NULL,
    gpu_name_raw TEXT NOT NULL,
    gpu_count INTEGER NOT NULL,
    gpu_memory_gib REAL,
    vcpus REAL,
    ram_gib REAL,
    disk_gib REAL,
    price_per_hour_usd REAL NOT NULL,
    price_per_gpu_hour_usd REAL NOT NULL,
    spot INTEGER NOT NULL,
    region TEXT,
    country TEXT,
    availability TEXT NOT NULL,
    reliability REAL,
    cuda_version TEXT,
    observed_at TEXT NOT NULL,
    source TEXT NOT NULL,
    source_url TEXT,
    extras TEXT NOT NULL,
    fetched_at TEXT NOT NULL
)
"""
#: What a cache read selects: `OfferRow`'s layout (``source`` is not read: always "cache").
_OFFERS_SELECT = ", ".join("NULL" if name == "source" else name for name in OFFER_FIELDS)
#: Rows an older version (or a damaged file) may hold that no longer make an offer: they
#: are left out of every read instead of failing it.
#: (The unary ``+`` keeps these checks out of the planner's choice of index: the query's own
#: filters pick it.)
_VALID = (
    " AND +price_per_hour_usd > 0 AND +price_per_hour_usd < 1e300"
    " AND +price_per_gpu_hour_usd > 0 AND +price_per_gpu_hour_usd < 1e300"
    " AND +gpu_count >= 1 AND +id IS NOT NULL AND +gpu_model IS NOT NULL"
)
_OFFERS_INSERT = (
    f"INSERT OR REPLACE INTO offers ({', '.join(OFFER_FIELDS)}, fetched_at)"
    f" VALUES ({', '.join('?' for _ in OFFER_FIELDS)}, ?)"
)
#: Every cache read names its provider, so every index starts with it.
_OFFERS_INDEXES = {
    "idx_offers_provider_fetched": "provider, fetched_at",
    "idx_offers_provider_gpu": "provider, gpu_model, gpu_count",
    "idx_offers_provider_price": "provider, price_per_hour_usd",
    "idx_offers_provider_price_per_gpu": "provider, price_per_gpu_hour_usd",
}


@migration
def m005_offers_typed(db: Database) -> None:
    """The offers cache as typed columns (was: one JSON ``data`` column), with indexes.

    Every old row is converted: its JSON was written by ``Offer.model_dump_json``, so each
    key maps to its column unchanged (``observed_at`` keeps the model's JSON text). A row
    whose JSON cannot be decoded into an offer could never be read back and is dropped.
    """
    conn = db.conn
    conn.execute(_OFFERS_TYPED_DDL.format(name="offers_typed"))
    old = conn.execute("SELECT id, provider, data, fetched_at FROM offers")
    conn.executemany(
        f"INSERT OR REPLACE INTO offers_typed VALUES ({', '.join('?' * 23)})",
        (row for row in map(_m005_row, old) if row is not None),
    )
    conn.execute("DROP TABLE offers")
    conn.execute("ALTER TABLE offers_typed RENAME TO offers")
    for name, columns in _OFFERS_INDEXES.items():
        conn.execute(f"CREATE INDEX {name} ON offers ({columns})")


def _m005_row(old: tuple[Any, ...]) -> tuple[Any, ...] | None:
    offer_id, provider, data, fetched_at = old
    try:
        d = json.loads(data)
        extras = d.get("extras") or {}
        if not isinstance(extras, dict):
            raise TypeError("extras is not an object")
        return (
            d["id"], d.get("provider") or provider, d.get("instance_type"), d["gpu_model"],
            d["gpu_name_raw"], int(d["gpu_count"]), d.get("gpu_memory_gib"), d.get("vcpus"),
            d.get("ram_gib"), d.get("disk_gib"), float(d["price_per_hour_usd"]),
            float(d["price_per_gpu_hour_usd"]), int(bool(d.get("spot"))), d.get("region"),
            d.get("country"), d.get("availability") or "unknown", d.get("reliability"),
            d.get("cuda_version"), d["observed_at"], d.get("source") or "live",
            d.get("source_url"), json.dumps(extras, ensure_ascii=False), fetched_at,
        )  # fmt: skip
    except (ValueError, TypeError, KeyError, AttributeError):
        _log.warning("m005: dropped cached offer %r: its JSON is not an offer", offer_id)
        return None


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
    """A provider's cached offers and when they were fetched.

    Attributes:
        offers: the cached offers that passed the read's push-down filters (all of them
            when the read had none), marked ``source=cache``.
        total: every offer cached for the provider, filtered or not.
    """

    provider: str
    fetched_at: datetime
    offers: list[OfferRow]
    total: int = 0

    def age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.fetched_at).total_seconds())


class _OfferWriter:
    """Serialises offers into `_OFFERS_INSERT` values, as ``Offer.model_dump_json`` would.

    Non-finite numbers become NULL, ``observed_at`` is the model's JSON text and the extras
    hold the values of the model's JSON: what the JSON cache of earlier versions held, so a
    cached offer reads back as it did then.
    """

    def __init__(self, fetched_at: str) -> None:
        from pydantic import TypeAdapter

        self.fetched_at = fetched_at
        self._datetime_json = TypeAdapter(datetime).dump_json
        self._extras_json = TypeAdapter(dict[str, Any]).dump_json
        self._stamps: dict[datetime, str] = {}

    def stamp(self, moment: datetime) -> str:
        text = self._stamps.get(moment)
        if text is None:
            text = self._stamps[moment] = self._datetime_json(moment).decode()[1:-1]
        return text

    def extras(self, extras: dict[str, Any]) -> str:
        """The extras as ``json.dumps`` writes them (what `OfferRow.extras_json` promises),
        of the values the model's JSON holds (pydantic turns NaN into null, dates into
        text...)."""
        if not extras:
            return "{}"
        if _plain_json(extras):  # the model's JSON holds these values unchanged
            text = json.dumps(extras, ensure_ascii=False)
            if text.isascii() or _text(text) is text:  # (no lone surrogate in it)
                return text
        from pydantic_core import PydanticSerializationError

        try:
            canonical = self._extras_json(extras)
        except PydanticSerializationError:  # e.g. a lone surrogate: not valid UTF-8
            canonical = self._extras_json(_clean_text(extras))
        return json.dumps(json.loads(canonical), ensure_ascii=False)

    def rows(self, offers: Iterable[Offer], provider: str) -> Iterator[tuple[Any, ...]]:
        """The values of each offer, one at a time; an offer SQLite cannot hold (a GPU count
        beyond 64 bits) is left out and logged."""
        for o in offers:
            if not -(2**63) <= o.gpu_count < 2**63:
                _log.warning("%s: not cached: gpu_count %d is out of range", o.id, o.gpu_count)
                continue
            yield self.values(o, provider)

    def values(self, o: Offer, provider: str) -> tuple[Any, ...]:
        return (
            _text(o.id), provider, _text(o.instance_type), _text(o.gpu_model),
            _text(o.gpu_name_raw), o.gpu_count, _finite(o.gpu_memory_gib), _finite(o.vcpus),
            _finite(o.ram_gib), _finite(o.disk_gib), o.price_per_hour_usd,
            o.price_per_gpu_hour_usd, int(o.spot), _text(o.region), _text(o.country),
            o.availability.value, _finite(o.reliability), _text(o.cuda_version),
            self.stamp(o.observed_at), o.source.value, _text(o.source_url),
            self.extras(o.extras), self.fetched_at,
        )  # fmt: skip


def _plain_json(value: Any) -> bool:
    """True for values JSON holds as they are: str, int, finite float, bool, None, and lists
    and str-keyed dicts of them (exact types: subclasses, NaN, dates... go through pydantic)."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _plain_json(v) for k, v in value.items())
    if kind is list:
        return all(_plain_json(v) for v in value)
    if kind is float:
        return math.isfinite(value)
    return value is None or kind is str or kind is int or kind is bool


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def _text(value: str | None) -> str | None:
    """Text SQLite can store: lone surrogates (not encodable as UTF-8) become U+FFFD."""
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    return value


def _clean_text(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_clean_text(k): _clean_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_text(v) for v in value]
    return value


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _register_lower(conn: sqlite3.Connection) -> None:
    # Python's lower(), not SQLite's ASCII-only one: the push-down must match at least
    # what the query's predicate matches (``ranking.filters`` lower-cases with Python).
    conn.create_function("py_lower", 1, _lower, deterministic=True)


def _pushdown_sql(pushdown: Pushdown | None) -> tuple[str, list[Any]]:
    """`` AND ...`` conditions (and their parameters) for the filters SQL can apply."""
    if pushdown is None:
        return "", []
    terms: list[str] = []
    params: list[Any] = []

    def one_of(column: str, values: frozenset[str] | None, lower: bool = False) -> None:
        if values is None:
            return
        expr = f"py_lower({column})" if lower else column
        ordered = sorted(values)
        terms.append(f"{expr} IN ({', '.join('?' for _ in ordered)})")
        params.extend(ordered)

    def compare(column: str, op: str, value: float | None) -> None:
        if value is not None:
            terms.append(f"{column} {op} ?")
            params.append(value)

    one_of("gpu_model", pushdown.gpu_models)
    compare("gpu_count", ">=", pushdown.min_gpus)
    compare("gpu_count", "<=", pushdown.max_gpus)
    compare("price_per_hour_usd", "<=", pushdown.max_price_usd)
    compare("price_per_gpu_hour_usd", "<=", pushdown.max_price_per_gpu_usd)
    compare("gpu_memory_gib", ">=", pushdown.min_vram_gib)
    compare("reliability", ">=", pushdown.min_reliability)
    compare("vcpus", ">=", pushdown.min_vcpus)
    compare("ram_gib", ">=", pushdown.min_ram_gib)
    compare("disk_gib", ">=", pushdown.min_disk_gib)
    if pushdown.spot is not None:
        terms.append("spot = ?")
        params.append(int(pushdown.spot))
    if pushdown.available_only:
        terms.append("availability != 'unavailable'")
    one_of("region", pushdown.regions, lower=True)
    one_of("country", pushdown.countries, lower=True)
    return "".join(f" AND {t}" for t in terms), params


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
    import statistics  # (with decimal and fractions: only a refresh needs it)

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


_CORRUPTION = ("file is not a database", "database disk image is malformed", "file is encrypted")


def _is_corruption(exc: sqlite3.Error) -> bool:
    return any(text in str(exc) for text in _CORRUPTION)


def _select(
    conn: sqlite3.Connection,
    table: str,
    where: str | None = None,
    params: Sequence[Any] = (),
    *,
    order_by: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """A table's rows as dicts, as sqlite-utils' ``rows_where`` gives them, in plain SQL:
    a read never needs sqlite-utils loaded."""
    sql = f"SELECT * FROM [{table}]"
    if where:
        sql += f" WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    cursor = conn.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor]


def _first(
    conn: sqlite3.Connection,
    table: str,
    where: str,
    params: Sequence[Any],
    *,
    order_by: str | None = None,
) -> dict[str, Any] | None:
    """The first row `_select` gives, or None."""
    rows = _select(conn, table, where, params, order_by=order_by, limit=1)
    return rows[0] if rows else None


def _store_error(path: Path | str, exc: sqlite3.Error) -> StoreError:
    if _is_corruption(exc):
        return StoreError(
            f"database {path} is damaged ({exc})",
            hint=f"`gpubroker doctor` checks it; moving {path} aside lets gpubroker start afresh",
        )
    if "readonly" in str(exc) or "read-only" in str(exc):
        return StoreError(
            f"database {path} is read-only ({exc})",
            hint="make it writable or set GPUBROKER_HOME to a writable directory",
        )
    return StoreError(
        f"database {path}: {exc}",
        hint="it holds the cache, price history and POD journal; `gpubroker doctor` checks it",
    )


def _create_private(path: Path) -> None:
    """Create the file 0600 before SQLite does (its -wal and -shm files copy the mode);
    tighten an existing one we own."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return  # read-only or missing directory: sqlite3 reports it properly
    os.close(fd)
    with contextlib.suppress(OSError):
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)


def _move_aside(path: Path, now: datetime) -> Path:
    """Rename a damaged database (and its WAL files) out of the way; return the new name."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        with contextlib.suppress(OSError):
            os.replace(extra, aside.with_name(aside.name + suffix))
    return aside


F = TypeVar("F", bound=Callable[..., Any])


def _sqlite_errors_as_store_errors(fn: F) -> F:
    """A damaged page, a full disk or a read-only file met mid-query becomes one clear
    `StoreError` (exit 1 with a hint), never an internal error."""

    @functools.wraps(fn)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc) from None

    return cast(F, wrapper)


def _every_public_method(cls: type[Store]) -> type[Store]:
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or name in ("write", "close") or not inspect.isfunction(member):
            continue
        setattr(cls, name, _sqlite_errors_as_store_errors(member))
    return cls


@_every_public_method
class Store:
    """The gpubroker database.

    Args:
        path: database file (``:memory:`` for tests).
        now: clock used for every timestamp and TTL check.
    """

    def __init__(self, path: Path | str, *, now: Clock | None = None) -> None:
        self.path = path
        self.now: Clock = now or (lambda: datetime.now(UTC))
        self._db: Database | None = None
        #: Things worth a warning found while opening (a corrupt file moved aside).
        self.notes: list[str] = []
        try:
            self.conn = self._open(path)
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc) or str(path) == ":memory:":
                raise _store_error(path, exc) from None
            aside = _move_aside(Path(path), self.now())
            self.notes.append(
                f"database {path} was unreadable ({exc}); moved aside to {aside.name} and "
                "started afresh (the POD journal can be rebuilt with `gpubroker pods sync "
                "--adopt`)"
            )
            try:
                self.conn = self._open(path)
            except sqlite3.Error as again:
                raise _store_error(path, again) from None

    def _open(self, path: Path | str) -> sqlite3.Connection:
        """Connect, switch to WAL and migrate if needed (the write lock only for migrating)."""
        if str(path) != ":memory:":
            _create_private(Path(path))
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if str(path) != ":memory:":
                _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            _register_lower(conn)  # the cache read's region and country push-down uses it
            self.conn = conn
            if self._migrations_pending():
                self.migrate()
        except BaseException:
            conn.close()
            raise
        return conn

    @property
    def db(self) -> Database:
        """The sqlite-utils view of the connection (imported on first use: reads that only
        need SQL, like a cache read, never load it)."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn)
        return self._db

    def _migrations_pending(self) -> bool:
        try:
            done = {row[0] for row in self.conn.execute("SELECT name FROM _migrations")}
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return True
            raise
        return any(name not in done for name, _ in MIGRATIONS)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def write(self, *, busy_timeout_s: float | None = None) -> Iterator[Database]:
        """One write transaction holding the write lock from its start.

        Args:
            busy_timeout_s: wait at most this long for another writer (default: 30 s).

        Raises:
            StoreError: the lock could not be had, or SQLite failed (read-only file, full
                disk, a damaged page); the transaction is rolled back.
        """
        conn = self.conn
        if busy_timeout_s is not None:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(
                    f"database {self.path} is busy or read-only: {exc}",
                    hint="another gpubroker may be writing; retry, or check the file's"
                    " permissions (`gpubroker doctor`)",
                ) from None
            try:
                yield self.db
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise _store_error(self.path, exc) from None
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise _store_error(self.path, exc) from None
        finally:
            if busy_timeout_s is not None:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

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
        return [row["name"] for row in _select(self.conn, "_migrations", order_by="name")]

    # --- offers cache ---------------------------------------------------------------

    def save_offers(
        self,
        provider: str,
        offers: Sequence[Offer],
        fetched_at: datetime,
        *,
        keep_days: float | None = None,
        busy_timeout_s: float | None = None,
    ) -> None:
        """Replace a provider's cached offers atomically and append its price history.

        Rows are written as they are serialised (no intermediate list), one typed column per
        offer field.

        Args:
            keep_days: prune price history and fetch-log rows older than this (retention).
            busy_timeout_s: wait at most this long for another writer.

        Raises:
            StoreError: the database could not be written (nothing is half-written).
        """
        stamp = _iso(fetched_at)
        history = [dict(row, observed_at=stamp) for row in summarize_prices(offers)]
        writer = _OfferWriter(stamp)
        with self.write(busy_timeout_s=busy_timeout_s) as db:
            db.conn.execute("DELETE FROM offers WHERE provider = ?", [provider])
            db.conn.executemany(_OFFERS_INSERT, writer.rows(offers, provider))
            if history:
                db.table("price_history").insert_all(history)
            if keep_days is not None:
                cutoff = _iso(self.now() - timedelta(days=keep_days))
                db.conn.execute("DELETE FROM price_history WHERE observed_at < ?", [cutoff])
                db.conn.execute("DELETE FROM fetches WHERE started_at < ?", [cutoff])

    def cached_offers(self, provider: str, pushdown: Pushdown | None = None) -> CachedOffers | None:
        """The last offers saved for a provider, marked ``source=cache``.

        Args:
            provider: the provider's name.
            pushdown: filters to apply in SQL (`gpubroker.ranking.filters.pushdown`): only
                rows that may match are read. They are a hint: apply the query's predicate
                to what comes back.

        Returns:
            None when the provider was never fetched successfully.
        """
        conn = self.conn
        total, fetched = conn.execute(
            "SELECT count(*), max(fetched_at) FROM offers WHERE provider = ?", [provider]
        ).fetchone()
        if not total:
            fetch = self.last_fetch(provider, ok_only=True)
            if fetch is None:
                return None
            return CachedOffers(provider, _parse_iso(fetch["started_at"]), [], 0)
        where, params = _pushdown_sql(pushdown)
        column = "provider"
        if not where:
            # Every row of a provider that owns most of the table: one pass over the table
            # beats an index lookup per row (about twice as fast at 50,000 rows).
            (everything,) = conn.execute("SELECT count(*) FROM offers").fetchone()
            if total * 2 > everything:
                column = "+provider"
        cursor = conn.execute(
            f"SELECT {_OFFERS_SELECT} FROM offers WHERE {column} = ?{_VALID}{where}",
            [provider, *params],
        )
        return CachedOffers(provider, _parse_iso(fetched), from_db_rows(cursor), total)

    def cached_total(self, provider: str) -> int:
        """How many offers are cached for a provider (`CachedOffers.total`, without reading
        them)."""
        (total,) = self.conn.execute(
            "SELECT count(*) FROM offers WHERE provider = ?", [provider]
        ).fetchone()
        return int(total)

    def get_offer(self, offer_id: str) -> Offer | None:
        cursor = self.conn.execute(
            f"SELECT {_OFFERS_SELECT} FROM offers WHERE id = ?{_VALID}", [offer_id]
        )
        rows = from_db_rows(cursor)
        return rows[0].to_offer() if rows else None

    def offer_ids(self) -> list[str]:
        """Every cached offer id."""
        return [row[0] for row in self.conn.execute("SELECT id FROM offers")]

    # --- fetch log ------------------------------------------------------------------

    def record_fetch(
        self, status: ProviderStatus, started_at: datetime, *, busy_timeout_s: float | None = None
    ) -> None:
        """Log one fetch (its status, count, latency, skips; no secrets: messages are
        redacted before they get here)."""
        with self.write(busy_timeout_s=busy_timeout_s) as db:
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
        row = _first(self.conn, "fetches", where, [provider], order_by="started_at DESC")
        if row is None:
            return None
        try:
            skipped = json.loads(row.get("skipped") or "{}")
        except ValueError:
            skipped = {}
        row["skipped"] = skipped if isinstance(skipped, dict) else {}
        return row

    # --- subscriptions --------------------------------------------------------------

    def current_subscription(self, profile: str) -> dict[str, Any] | None:
        """The profile's most recently updated subscription row, if any."""
        return _first(
            self.conn, "subscriptions", "profile = ?", [profile], order_by="updated_at desc"
        )

    def subscription(self, subscription_id: str) -> dict[str, Any] | None:
        """One subscription row by id."""
        return _first(self.conn, "subscriptions", "subscription_id = ?", [subscription_id])

    def subscriptions(self, profile: str, **match: Any) -> list[dict[str, Any]]:
        """The profile's subscription rows, most recently updated first.

        Args:
            match: column = value filters (e.g. ``order_id=...``, ``status=...``).
        """
        unknown = set(match) - set(SUBSCRIPTION_COLUMNS)
        if unknown:
            raise ValueError(f"unknown subscription columns: {sorted(unknown)}")
        where = " and ".join(["profile = ?", *(f"[{key}] = ?" for key in match)])
        return _select(
            self.conn,
            "subscriptions",
            where,
            [profile, *match.values()],
            order_by="updated_at desc, rowid desc",
        )

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
                found = _first(db.conn, "subscriptions", "subscription_id = ?", [old])
                if found is not None:
                    merged.update({k: v for k, v in found.items() if v is not None})
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
            if self._config_named(db.conn, row["name"]) is not None:
                raise RefusedError(
                    f"a config named {row['name']!r} already exists",
                    hint="pick another name, or change it with `gpubroker configs update`",
                )
            db.table("pod_configs").insert(row)

    @staticmethod
    def _config_named(conn: sqlite3.Connection, name: str) -> dict[str, Any] | None:
        return _first(conn, "pod_configs", "name = ?", [name])

    def pod_config(self, id_or_name: str) -> dict[str, Any] | None:
        """A config by exact id, else by name."""
        found = _first(self.conn, "pod_configs", "id = ?", [id_or_name])
        return found if found is not None else self._config_named(self.conn, id_or_name)

    def pod_configs(self) -> list[dict[str, Any]]:
        return _select(self.conn, "pod_configs", order_by="name")

    def update_pod_config(self, config_id: str, changes: dict[str, Any]) -> None:
        """Change a config's columns.

        Raises:
            RefusedError: a new name that another config already has.
        """
        with self.write() as db:
            new_name = changes.get("name")
            if new_name is not None:
                other = self._config_named(db.conn, new_name)
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
            live = self._live_pod_named(db.conn, row["name"])
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

    def live_pod_named(self, name: str) -> dict[str, Any] | None:
        """The POD holding this name: not failed or destroyed (at most one is)."""
        return self._live_pod_named(self.conn, name)

    @staticmethod
    def _live_pod_named(conn: sqlite3.Connection, name: str) -> dict[str, Any] | None:
        return _first(conn, "pods", "name = ? and status not in ('failed', 'destroyed')", [name])

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
            row = _first(db.conn, "pods", "pod_id = ?", [pod_id])
            if row is None:
                raise StoreError(f"no POD {pod_id} in the journal")
            old = row["status"]
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
        return _first(self.conn, "pods", "pod_id = ?", [pod_id])

    def pods_named(self, name: str) -> list[dict[str, Any]]:
        """PODs with this name, newest first (at most one of them is live)."""
        return _select(self.conn, "pods", "name = ?", [name], order_by="created_at desc")

    def pods(self, statuses: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """PODs, oldest first, optionally only those in the given states."""
        wanted = sorted(set(statuses or ()))
        where = f"status in ({', '.join('?' for _ in wanted)})" if wanted else None
        return _select(self.conn, "pods", where, wanted, order_by="created_at")

    def count_live_pods(self, owner: str) -> int:
        return int(
            self.conn.execute(
                "select count(*) from pods where owner = ?"
                " and status not in ('failed', 'destroyed')",
                [owner],
            ).fetchone()[0]
        )

    def pod_events(self, pod_id: str) -> list[dict[str, Any]]:
        """A POD's history, oldest first."""
        return _select(self.conn, "pod_events", "pod_id = ?", [pod_id], order_by="at, id")

    def record_audit(self, row: dict[str, Any]) -> None:
        """Append one billable or destructive action to the audit table."""
        with self.write() as db:
            db.table("audit").insert({"at": _iso(self.now()), **row})

    def audit_log(self, pod_id: str | None = None) -> list[dict[str, Any]]:
        if pod_id is None:
            return _select(self.conn, "audit", order_by="at, id")
        return _select(self.conn, "audit", "pod_id = ?", [pod_id], order_by="at, id")

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
            for row in _select(
                self.conn,
                "price_history",
                where,
                params,
                order_by="observed_at, provider, gpu_model, spot",
            )
        ]
