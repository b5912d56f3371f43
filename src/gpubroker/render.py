"""All user-facing output: tables (rich on a TTY, tabulate elsewhere) and data formats.

Data goes to stdout; notes, warnings and progress go to stderr through `err_console()`.
JSON is a contract: the model's field names (units in the names), asserted exactly in tests.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TextIO

from gpubroker._gc import paused
from gpubroker.errors import UsageError
from gpubroker.models import ProviderState, ProviderStatus, RankedOffer, SearchResult, Source
from gpubroker.rows import OFFER_FIELDS as ROW_FIELDS
from gpubroker.rows import RANK_FIELDS, OfferRow, RankedLike, RankedRow, RankedRows
from gpubroker.settings import OutputFormat
from gpubroker.textfmt import humanize_age, sparkline
from gpubroker.textfmt import sanitize as sanitize  # re-exported for commands

if TYPE_CHECKING:
    # rich is imported where a terminal needs it: a data format piped elsewhere never
    # loads it (a cold start's 30 ms).
    from rich.console import Console


def no_color_requested(flag: bool = False) -> bool:
    return flag or bool(os.environ.get("NO_COLOR"))


def err_console(no_color: bool = False) -> Console:
    """Console for chatter (stderr)."""
    from rich.console import Console

    return Console(stderr=True, no_color=no_color_requested(no_color), highlight=False)


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)  # inf, -inf, nan: int() of them raises
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def skipped_text(skipped: Mapping[str, int] | None) -> str:
    """Skipped rows for a table cell: the total, then the reasons, most frequent first.

    ``{"no price": 1, "no GPU": 4}`` → ``5 (4 no GPU, 1 no price)``; cut short on a narrow
    terminal, the total still shows.
    """
    if not skipped:
        return ""
    ranked = sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))
    reasons = ", ".join(f"{count} {reason}" for reason, count in ranked)
    return f"{sum(skipped.values())} ({reasons})"


#: `offers refresh` columns a narrow terminal hides first; the skipped reasons shrink instead.
REFRESH_DROPPABLE = ("age_s", "truncated", "latency_ms")


def fetch_table_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Cells of per-provider fetch rows (`offers refresh` statuses) for a table."""
    return [
        {k: skipped_text(v) if k == "skipped" else cell_text(v) for k, v in row.items()}
        for row in rows
    ]


def write_data(
    rows: Iterable[Mapping[str, Any]],
    fmt: OutputFormat,
    *,
    columns: Sequence[str] | None = None,
    headers: Mapping[str, str] | None = None,
    table_rows: Sequence[Mapping[str, str]] | None = None,
    title: str | None = None,
    out: TextIO | None = None,
    no_color: bool = False,
    json_object: Any = None,
    droppable: Sequence[str] = (),
    keep: Sequence[str] = (),
) -> None:
    """Write rows in the requested format.

    ``json``, ``jsonl``, ``csv`` and ``tsv`` are written row by row as ``rows`` yields them
    (a generator is never held in memory whole); tables need every row first.

    Args:
        rows: the data (JSON-ready dicts: the contract for json/jsonl/csv/tsv).
        columns: columns for csv/tsv/table/markdown (default: keys of the first row).
        headers: display names for table/markdown columns.
        table_rows: pre-formatted cells for table/markdown (default: `_cell` of rows).
        json_object: emit this instead of ``rows`` for ``--format json`` (an object).
        droppable: table columns that may be hidden, in this order, when a terminal is
            too narrow for all of them (then any other column but ``keep``, right first).
        keep: key columns of a terminal table: never hidden and never cut short. Numbers
            are never cut short either; long text shrinks (with an ellipsis) before a
            column is hidden.
    """
    stream = out or sys.stdout
    if fmt is OutputFormat.JSON:
        if json_object is not None:
            stream.write(json.dumps(json_object, indent=2, ensure_ascii=False, default=str) + "\n")
        else:
            write_json_array(rows, stream)
        return
    if fmt is OutputFormat.JSONL:
        write_lines((_encode_jsonl(row) + "\n" for row in rows), stream)
        return
    if fmt in (OutputFormat.CSV, OutputFormat.TSV):
        first, rows = _peek(rows)
        cols = list(columns or (first.keys() if first is not None else []))
        writer = csv.writer(
            stream, delimiter="," if fmt is OutputFormat.CSV else "\t", lineterminator="\n"
        )
        writer.writerow(cols)
        for chunk in _chunks(rows):
            writer.writerows([[_csv_cell(row.get(c)) for c in cols] for row in chunk])
        return
    rows = list(rows)
    cols = list(columns or (rows[0].keys() if rows else []))
    cells = table_rows or [{c: cell_text(r.get(c)) for c in cols} for r in rows]
    names = {c: (headers or {}).get(c, c) for c in cols}
    if fmt is OutputFormat.TABLE and is_tty(stream):
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        console = Console(file=stream, no_color=no_color_requested(no_color), highlight=False)
        layout = plan_columns(cols, cells, names, console.width, droppable, keep)
        cols = list(layout)
        table = Table(title=title, header_style="bold", show_edge=False, pad_edge=False)
        for col in cols:
            numeric = _is_numeric(cells, col)
            table.add_column(
                names[col], justify="right" if numeric else "left", overflow="ellipsis",
                no_wrap=True, width=layout[col],
            )  # fmt: skip
        for row in cells:
            # Text, not str: data is never parsed as Rich markup ("[link=...]" stays text).
            table.add_row(*[Text(sanitize(row.get(c, ""))) for c in cols])
        console.print(table)
        return
    from tabulate import tabulate

    markdown = fmt is OutputFormat.MARKDOWN
    body = [[row.get(c, "") for c in cols] for row in cells]
    if title:
        stream.write(f"**{title}**\n\n" if markdown else f"{title}\n")
    stream.write(
        tabulate(
            body,
            headers=[names[c] for c in cols],
            tablefmt="github" if markdown else "simple",
            disable_numparse=True,
        )
        + "\n"
    )


def write_json_array(rows: Iterable[Any], stream: TextIO) -> None:
    """Write ``rows`` as ``json.dumps(list(rows), indent=2, ...)`` would, item by item.

    Byte for byte the same text (a test holds them equal): each item is dumped on its own
    and indented one level, which is what the encoder does for items of a list.
    """
    encode = json.JSONEncoder(indent=2, ensure_ascii=False, default=str).encode
    separator = "[\n  "
    for chunk in _chunks(rows):
        parts = []
        for row in chunk:
            parts.append(separator)
            parts.append(encode(row).replace("\n", "\n  "))
            separator = ",\n  "
        stream.write("".join(parts))
    stream.write("[]\n" if separator == "[\n  " else "\n]\n")


def _chunks(rows: Iterable[Any], size: int = 512) -> Iterator[list[Any]]:
    """``rows`` in lists of ``size``: fewer, larger writes than one per row."""
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _peek(rows: Iterable[Any]) -> tuple[Any, Iterable[Any]]:
    """The first row (None when there is none) and every row, the first included."""
    iterator = iter(rows)
    first = next(iterator, None)
    return first, iterator if first is None else itertools.chain([first], iterator)


_NUMERIC = re.compile(r"^[-+]?[\d,]*\.?\d*\*?$")


#: Text columns may shrink to this many characters (with an ellipsis) before being hidden.
MIN_TEXT_WIDTH = 10
_GAP = 3  # " │ " between two columns of a table without outer edges


def _is_numeric(cells: Sequence[Mapping[str, str]], col: str) -> bool:
    values = [row.get(col, "") for row in cells]
    return any(values) and all(_NUMERIC.match(v) for v in values)


def plan_columns(
    cols: Sequence[str],
    cells: Sequence[Mapping[str, str]],
    names: Mapping[str, str],
    width: int,
    droppable: Sequence[str] = (),
    keep: Sequence[str] = (),
) -> dict[str, int]:
    """The columns a terminal table shows, each with the width it gets.

    1. While the table is too wide, hide ``droppable`` columns in their order.
    2. Then shrink long text that is not a key column (widest first, never below
       `MIN_TEXT_WIDTH`; the cut shows an ellipsis).
    3. Then hide any other non-key column, rightmost first.

    Key columns (``keep``) and numbers are never cut; a table of key columns alone that is
    still too wide is shown whole and the terminal wraps it.
    """
    natural = {c: max([len(names[c]), *(len(row.get(c, "")) for row in cells)]) for c in cols}
    fixed = {c for c in cols if c in keep or _is_numeric(cells, c)}
    kept = list(cols)
    widths = dict(natural)

    def total() -> int:
        return sum(widths[c] for c in kept) + _GAP * (len(kept) - 1)

    for col in droppable:
        if total() <= width:
            break
        if col in kept and col not in keep:
            kept.remove(col)
    while total() > width:
        shrinkable = [c for c in kept if c not in fixed and widths[c] > MIN_TEXT_WIDTH]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda c: widths[c])
        widths[widest] = max(MIN_TEXT_WIDTH, widths[widest] - (total() - width))
    while total() > width:
        spare = [c for c in kept if c not in keep]
        if not spare:
            break
        kept.remove(spare[-1])
    return {c: widths[c] for c in kept}


def fit_columns(
    cols: Sequence[str],
    cells: Sequence[Mapping[str, str]],
    names: Mapping[str, str],
    width: int,
    droppable: Sequence[str],
    keep: Sequence[str] = (),
) -> list[str]:
    """The columns `plan_columns` keeps, in order."""
    return list(plan_columns(cols, cells, names, width, droppable, keep))


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


# --- offers -------------------------------------------------------------------------------

OFFER_FIELDS = [*ROW_FIELDS, *RANK_FIELDS]  # `RankedOffer`'s fields, in order
DEFAULT_OFFER_COLUMNS = [
    "rank", "score", "provider", "gpu_model", "gpu_count", "gpu_memory_gib", "vcpus", "ram_gib",
    "price_per_hour_usd", "price_per_gpu_hour_usd", "spot", "region", "availability", "source",
]  # fmt: skip
GROUP_HEADERS = {
    "count": "offers", "min_price_per_gpu_hour_usd": "min $/gpu-h",
    "median_price_per_gpu_hour_usd": "median $/gpu-h", "best_offer_id": "best offer",
    "best_rank": "rank", "best_score": "score", "best_price_per_hour_usd": "best $/h",
    "best_gpu_count": "n",
}  # fmt: skip

# Hidden first when a terminal is too narrow for the whole table.
DROPPABLE_OFFER_COLUMNS = [
    "availability", "ram_gib", "vcpus", "score", "gpu_memory_gib", "region", "source",
    "price_per_gpu_hour_usd", "spot", "provider",
]  # fmt: skip
OFFER_HEADERS = {
    "rank": "#", "score": "score", "provider": "provider", "gpu_model": "gpu",
    "gpu_count": "n", "gpu_memory_gib": "GiB/gpu", "vcpus": "vcpu", "ram_gib": "ram GiB",
    "price_per_hour_usd": "$/h", "price_per_gpu_hour_usd": "$/gpu-h", "spot": "spot",
    "region": "region", "availability": "avail", "source": "source (age)",
    "total_cost_usd": "total $", "pareto_optimal": "pareto", "short_id": "id",
}  # fmt: skip


#: Short headers for `--explain` columns (a contribution per criterion).
EXPLAIN_HEADERS = {
    "price": "+$/h", "price_per_gpu": "+$/gpu", "vram": "+mem", "vram_per_gpu": "+mem/gpu",
    "tflops": "+tflops", "tflops_per_gpu": "+tf/gpu", "bandwidth": "+bw",
    "bandwidth_per_gpu": "+bw/gpu", "tflops_per_usd": "+tf/$", "vram_per_usd": "+mem/$",
    "reliability": "+rel", "availability": "+avail", "on_demand": "+on-dem",
}  # fmt: skip


def parse_fields(text: str | None, valid: Sequence[str]) -> list[str] | None:
    """Split ``--fields a,b,c`` and check each name."""
    if not text:
        return None
    fields = [f.strip() for f in text.split(",") if f.strip()]
    unknown = [f for f in fields if f not in valid]
    if unknown:
        raise UsageError(f"unknown field {unknown[0]!r} in --fields; valid: {', '.join(valid)}")
    return fields


def source_label(offer: RankedLike, now: datetime) -> str:
    if offer.source is Source.CATALOG:
        return f"catalog {offer.observed_at:%Y-%m}" + (" stale" if offer.stale else "")
    if offer.source is Source.CACHE:
        return f"cache {humanize_age((now - offer.observed_at).total_seconds())}"
    return "live"


def money(value: float | None) -> str:
    """Hourly prices: always three decimals, so a column lines up ($0.140, $31.920)."""
    if value is None:
        return ""
    return f"{value:,.3f}"


def _total(value: float | None) -> str:
    """Totals over many hours: cents, with thousands separators."""
    return "" if value is None else f"{value:,.2f}"


#: Key columns of the offers table: never hidden, never cut short.
OFFER_KEY_COLUMNS = ["rank", "gpu_model", "gpu_count", "price_per_hour_usd", "short_id"]


def offer_cells(offer: RankedLike, columns: Sequence[str], now: datetime) -> dict[str, str]:
    formatters: dict[str, Callable[[RankedLike], str]] = {
        "score": lambda o: f"{o.score:.4f}",
        "rank": lambda o: f"{o.rank}{'*' if o.pareto_optimal else ''}",
        "price_per_hour_usd": lambda o: money(o.price_per_hour_usd),
        "price_per_gpu_hour_usd": lambda o: money(o.price_per_gpu_hour_usd),
        "total_cost_usd": lambda o: _total(o.total_cost_usd),
        "short_id": lambda o: o.short_id,
        "source": lambda o: source_label(o, now),
        "spot": lambda o: "spot" if o.spot else "",
        "availability": lambda o: o.availability.value,
    }
    cells = {}
    for col in columns:
        fmt = formatters.get(col)
        if fmt is not None:
            cells[col] = fmt(offer)
        elif col.startswith("c:"):
            value = (offer.contributions or {}).get(col[2:])
            cells[col] = "" if value is None else f"{value:.3f}"
        else:
            cells[col] = cell_text(getattr(offer, col))
    return cells


def separates(offers: Sequence[RankedLike], criterion: str) -> bool:
    """Whether a criterion's contribution differs between the offers shown (else: no column)."""
    values = {(o.contributions or {}).get(criterion) for o in offers}
    return len(values) > 1 or (len(offers) == 1 and values != {0.0})


def offer_json(offer: RankedLike) -> dict[str, Any]:
    """A ranked offer as the JSON contract has it: ``RankedOffer.model_dump(mode="json")``."""
    if isinstance(offer, RankedRow):
        return offer.json_dict()
    if isinstance(offer, RankedOffer):
        return offer.model_dump(mode="json")
    raise TypeError(f"not a ranked offer: {type(offer).__name__}")


_encode_jsonl = json.JSONEncoder(ensure_ascii=False, default=str).encode
_encode_string = json.encoder.encode_basestring  # the C encoder _encode_jsonl uses for str


def offer_jsonl(offer: RankedLike) -> str:
    """One ``--format jsonl`` line: ``json.dumps(offer_json(offer), ensure_ascii=False)``."""
    return _encode_jsonl(offer_json(offer)) + "\n"


_SOURCE_INDEX = ROW_FIELDS.index("source")
_SPOT_INDEX = ROW_FIELDS.index("spot")
_EXTRAS_INDEX = ROW_FIELDS.index("extras")
_CACHE_JSON = f'"{Source.CACHE.value}"'


def _json_value(value: Any) -> str:
    """One JSON value exactly as `_encode_jsonl` writes it (the types a cached row holds)."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is float:
        return float.__repr__(value)
    if kind is int:
        return int.__repr__(value)
    return _encode_jsonl(value)


_NONE = type(None)
#: Encoders for columns of one type (each runs in C over the whole column).
_COLUMN_ENCODERS: dict[type, Callable[[Any], str]] = {
    float: float.__repr__,
    int: int.__repr__,
}


def _encoded_column(values: Sequence[Any]) -> list[str]:
    """A column's values as `_encode_jsonl` writes them, the whole column at a time.

    A column holds one type (and maybe nulls), so the right encoder is picked once per
    column and mapped over it; anything else falls back to `_json_value` per value.
    """
    kinds = set(map(type, values))
    nullable = _NONE in kinds
    kinds.discard(_NONE)
    if len(kinds) > 1:
        return [_json_value(v) for v in values]
    if not kinds:  # nothing but nulls (no source URL, no hours asked)
        return ["null"] * len(values)
    kind = kinds.pop()
    encode = _encode_string if kind is str else _COLUMN_ENCODERS.get(kind)
    if encode is None:
        return [_json_value(v) for v in values]
    if not nullable:
        return list(map(encode, values))
    return ["null" if v is None else encode(v) for v in values]


#: Runs of consecutive row columns whose values repeat together down a listing (a GPU and
#: machine shape; a place and its stock; the CUDA version, timestamp and source): each
#: distinct combination is encoded once per output and reused (50,000 cached rows hold about
#: 1,400, 40 and 10 of them).
_GROUPED = (
    ("provider", "instance_type", "gpu_model", "gpu_name_raw", "gpu_count", "gpu_memory_gib",
     "vcpus", "ram_gib"),
    ("spot", "region", "country", "availability"),
    ("cuda_version", "observed_at", "source", "source_url"),
)  # fmt: skip
#: Distinct combinations remembered per group before the memo starts afresh (a listing with
#: no repeats costs no more memory than a bounded cache).
_SEGMENT_MEMO = 4096


def _row_json_value(index: int, value: Any) -> str:
    """One cached row's column as its JSON line has it: spot is stored 0/1, and the source of
    a cached row is always "cache"."""
    if index == _SPOT_INDEX:
        return "true" if value else "false"
    if index == _SOURCE_INDEX:
        return _CACHE_JSON
    return _json_value(value)


class _Segments(dict[tuple[Any, ...], str]):
    """Encoded ``"key": value, ...`` runs of one column group, by the group's values.

    The values come from SQLite columns of one type each, so equal keys encode equally (a
    REAL column never gives back -0.0: it reads as 0.0, which a test pins).
    """

    def __init__(self, indexes: tuple[int, ...]) -> None:
        super().__init__()
        self.indexes = indexes
        self.names = [ROW_FIELDS[j] for j in indexes]

    def __missing__(self, key: tuple[Any, ...]) -> str:
        if len(self) >= _SEGMENT_MEMO:
            self.clear()
        encoded = ", ".join(
            f'"{name}": {_row_json_value(j, v)}'
            for name, j, v in zip(self.names, self.indexes, key, strict=True)
        )
        self[key] = encoded
        return encoded


def _slot_plan() -> tuple[list[tuple[int, ...]], str]:
    """The row part of a line: one slot per single column or column group, and its template."""
    starts = {ROW_FIELDS.index(group[0]): group for group in _GROUPED}
    slots: list[tuple[int, ...]] = []
    parts: list[str] = []
    j = 0
    while j < len(ROW_FIELDS):
        if j in starts:
            group = starts[j]
            indexes = tuple(range(j, j + len(group)))
            if tuple(ROW_FIELDS[k] for k in indexes) != group:
                raise AssertionError(f"column group {group} is not consecutive in the row")
            slots.append(indexes)
            parts.append("%s")
            j += len(group)
        else:
            slots.append((j,))
            parts.append(f'"{ROW_FIELDS[j]}": %s')
            j += 1
    ranking = ", ".join(f'"{k}": %s' for k in RANK_FIELDS)
    return slots, "{" + ", ".join(parts) + ", " + ranking + "}\n"


_ROW_SLOTS, _SLOT_TEMPLATE = _slot_plan()


def jsonl_lines(offers: Iterable[RankedLike], chunk: int = 2000) -> Iterator[str]:
    """``--format jsonl`` lines, each equal to ``offer_jsonl(offer)`` (a test holds them so).

    Cached rows are encoded a column (or a group of columns that repeat together) at a time,
    a value or combination that repeats down the listing once, then put into a template:
    several times faster than encoding a dict per row. Anything else goes through
    `offer_jsonl`.
    """
    memos = {slot: _Segments(slot) for slot in _ROW_SLOTS if len(slot) > 1}
    batch: list[RankedRow] = []
    for offer in offers:
        if isinstance(offer, RankedRow) and isinstance(offer.offer, OfferRow):
            batch.append(offer)
            if len(batch) >= chunk:
                yield from _jsonl_batch(batch, memos)
                batch = []
            continue
        if batch:
            yield from _jsonl_batch(batch, memos)
            batch = []
        yield offer_jsonl(offer)
    if batch:
        yield from _jsonl_batch(batch, memos)


def _jsonl_batch(batch: Sequence[RankedRow], memos: dict[tuple[int, ...], _Segments]) -> list[str]:
    rows: list[Any] = [ranked.offer for ranked in batch]  # OfferRow s: tuples
    encoded: list[list[str]] = []
    for slot in _ROW_SLOTS:
        if len(slot) > 1:  # a group: its values as one key, looked up (encoded on a miss)
            encoded.append(list(map(memos[slot].__getitem__, map(itemgetter(*slot), rows))))
            continue
        (j,) = slot
        column = list(map(itemgetter(j), rows))
        if j == _EXTRAS_INDEX:  # kept exactly as json.dumps wrote it
            encoded.append(column)
        else:  # spot and source are in groups (`_GROUPED`), encoded by `_row_json_value`
            encoded.append(_encoded_column(column))
    encoded.append([int.__repr__(r.rank) for r in batch])
    encoded.append([float.__repr__(r.score) for r in batch])
    encoded.append(["true" if r.pareto_optimal else "false" for r in batch])
    encoded.append(_encoded_column([r.total_cost_usd for r in batch]))
    encoded.append(_encoded_column([r.contributions for r in batch]))
    encoded.append(["true" if r.stale else "false" for r in batch])
    # map + zip: zip hands out one tuple that is refilled while % consumes it.
    return list(map(_SLOT_TEMPLATE.__mod__, zip(*encoded, strict=True)))


def write_lines(lines: Iterable[str], out: TextIO | None = None) -> None:
    """Write text lines as they come, a few hundred per write."""
    stream = out or sys.stdout
    for chunk in _chunks(lines):
        stream.write("".join(chunk))


@paused()
def render_offers(
    offers: Sequence[RankedLike],
    fmt: OutputFormat,
    *,
    fields: Sequence[str] | None = None,
    hours: float | None = None,
    explain: bool = False,
    now: datetime | None = None,
    out: TextIO | None = None,
    no_color: bool = False,
) -> None:
    """Render ranked offers (`RankedOffer` models or `RankedRow` s): the full model in data
    formats, streamed row by row; a readable table otherwise."""
    moment = now or datetime.now(UTC)
    data_columns = list(fields) if fields else OFFER_FIELDS
    if fmt is OutputFormat.JSONL and not fields:
        write_lines(jsonl_lines(offers), out)
        return
    if fmt not in (OutputFormat.TABLE, OutputFormat.MARKDOWN):
        if fields:
            rows: Iterable[dict[str, Any]] = (
                {c: data.get(c) for c in data_columns} for data in map(offer_json, offers)
            )
        else:
            rows = map(offer_json, offers)
        write_data(rows, fmt, columns=data_columns, out=out)
        return
    columns = list(fields) if fields else list(DEFAULT_OFFER_COLUMNS)
    if not fields and hours is not None:
        columns.insert(columns.index("price_per_gpu_hour_usd") + 1, "total_cost_usd")
    headers = dict(OFFER_HEADERS)
    keep = list(OFFER_KEY_COLUMNS)
    if explain and offers and offers[0].contributions:
        for name in offers[0].contributions:
            if separates(offers, name):
                columns.append(f"c:{name}")
                headers[f"c:{name}"] = EXPLAIN_HEADERS.get(name, f"+{name}")
                keep.append(f"c:{name}")
    cells = [offer_cells(o, columns, moment) for o in offers]
    if not fields and _lookalikes(cells):
        # Two rows that read the same (a provider's identical offers at different
        # prices or regions hidden) get a short id to tell them apart: `offers show ID`.
        columns.insert(1, "short_id")
        cells = [offer_cells(o, columns, moment) for o in offers]
    droppable = [] if fields else DROPPABLE_OFFER_COLUMNS
    write_data(
        [],
        fmt,
        columns=columns,
        headers=headers,
        table_rows=cells,
        out=out,
        no_color=no_color,
        droppable=droppable,
        keep=keep,
    )


_NOT_DESCRIPTIVE = ("rank", "score", "price_per_hour_usd", "price_per_gpu_hour_usd",
                    "total_cost_usd")  # fmt: skip


def _lookalikes(cells: Sequence[Mapping[str, str]]) -> bool:
    """True when two rows describe the same thing (they differ at most in rank and price)."""
    seen: set[tuple[str, ...]] = set()
    for row in cells:
        key = tuple(
            v for k, v in row.items() if k not in _NOT_DESCRIPTIVE and not k.startswith("c:")
        )
        if key in seen:
            return True
        seen.add(key)
    return False


def _status_message(status: ProviderStatus) -> str:
    message = status.message or ""
    prefix = f"{status.provider}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def status_lines(statuses: Sequence[ProviderStatus]) -> list[str]:
    """One warning line per failed provider, plus short notes on fallbacks and truncation.

    Providers skipped for missing credentials share one note: they did not fail, they were
    never asked.
    """
    lines = []
    catalog_only = []
    no_credentials = []
    for s in statuses:
        if s.status is ProviderState.NO_CREDENTIALS:
            no_credentials.append(s.provider)
        elif s.failed:
            lines.append(f"warning: {s.provider}: {s.status.value}: {_status_message(s)}")
        elif s.status is ProviderState.SUSPECT or (s.status is ProviderState.OK and s.message):
            # a kept cache, or offers that could not be cached
            lines.append(f"warning: {s.provider}: {_status_message(s)}")
        elif s.status is ProviderState.STALE:
            age = humanize_age(s.age_s or 0)
            lines.append(f"note: {s.provider}: cache is {age} old (offline); refresh when online")
        elif s.status is ProviderState.CATALOG and s.count:
            catalog_only.append(s.provider)
        if s.truncated:
            lines.append(f"note: {s.provider}: result truncated at {s.count} offers")
    if catalog_only:
        lines.append(f"note: bundled catalog list prices for {', '.join(catalog_only)}")
    if no_credentials:
        # One line, not one per provider: most users never configure every provider.
        lines.append(
            f"note: skipped (no credentials): {', '.join(no_credentials)}; catalog prices shown"
            " where bundled. Add keys with `gpubroker keys set PROVIDER`"
            " (see `gpubroker providers`)"
        )
    return lines


def result_note_lines(result: SearchResult | RankedRows) -> list[str]:
    """Query notes, then stale prices shown, then the per-provider lines (`status_lines`)."""
    lines = [f"note: {note}" for note in result.notes]
    stale = sum(1 for o in result.offers if o.stale)
    if stale:
        what = "offers shown carry list prices"
        if stale == 1:
            what = "offer shown carries a list price"
        lines.append(
            f"note: {stale} {what} older than 6 months (marked stale); --max-age 6mo hides them"
        )
    return lines + status_lines(result.statuses)


def write_notes(lines: Sequence[str], console: Callable[[], Console]) -> None:
    """Notes and warnings for stderr: through rich on a terminal, as plain lines elsewhere
    (rich adds nothing there; markup and emoji codes are never interpreted either way)."""
    if not lines:
        return
    if is_tty(sys.stderr):
        err = console()
        for line in lines:
            err.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)
        return
    sys.stderr.write("".join(f"{line}\n" for line in lines))
    sys.stderr.flush()


def history_sparklines(series: Sequence[Mapping[str, Any]], out: TextIO | None = None) -> None:
    """One line per price-history series: a sparkline of its medians and the last one."""
    stream = out or sys.stdout
    for row in series:
        medians = row["medians_usd"]
        kind = "spot" if row["spot"] else "on-demand"
        stream.write(
            f"{row['provider']:<8} {row['gpu_model']:<16} {kind:<9} {sparkline(medians)}"
            f"  last ${medians[-1]:.3f}\n"
        )


def utilisation_sparklines(
    series: Mapping[str, Sequence[float]], out: TextIO | None = None
) -> None:
    """One line per metric (``cpu``, ``memory``): a sparkline, the average and the peak (%)."""
    stream = out or sys.stdout
    for label, values in series.items():
        if values:
            stream.write(
                f"{label:<7}{sparkline(values)}  avg {sum(values) / len(values):.1f}%"
                f"  max {max(values):.1f}%\n"
            )


def doctor_lines(
    rows: Sequence[Mapping[str, Any]], *, out: TextIO | None = None, no_color: bool = False
) -> None:
    """`gpubroker doctor` as one line per check, the fix indented below it (never cut)."""
    from rich.console import Console
    from rich.markup import escape

    stream = out or sys.stdout
    console = Console(file=stream, no_color=no_color_requested(no_color), highlight=False,
                      soft_wrap=True)  # fmt: skip
    styles = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}
    for row in rows:
        status = str(row["status"])
        mark = f"[{styles.get(status, '')}]{status.upper():<4}[/]"
        console.print(f"{mark} {escape(str(row['check']))}: {escape(str(row['detail']))}")
        if row.get("fix") and status in ("warn", "fail"):
            console.print(f"     fix: {escape(str(row['fix']))}")


# --- other tables ---------------------------------------------------------------------------

GROUP_DROPPABLE = [
    "best_offer_id", "best_score", "best_rank", "providers", "median_price_per_gpu_hour_usd",
    "best_gpu_count", "best_price_per_hour_usd",
]  # fmt: skip
_GROUP_MONEY = ("min_price_per_gpu_hour_usd", "median_price_per_gpu_hour_usd",
                "best_price_per_hour_usd")  # fmt: skip


def render_groups(
    rows: Sequence[Mapping[str, Any]],
    fmt: OutputFormat,
    by: str,
    *,
    columns: Sequence[str] | None = None,
    out: TextIO | None = None,
    no_color: bool = False,
) -> None:
    """``browse --group-by``: the group, its size and cheapest $/GPU-hour always whole."""
    cols = list(columns or (rows[0].keys() if rows else []))
    cells = [
        {c: money(r.get(c)) if c in _GROUP_MONEY else cell_text(r.get(c)) for c in cols}
        for r in rows
    ]
    if "best_score" in cols:
        for cell, row in zip(cells, rows, strict=True):
            cell["best_score"] = f"{row['best_score']:.4f}"
    write_data(
        rows, fmt, columns=cols, headers=GROUP_HEADERS, table_rows=cells, out=out,
        no_color=no_color, droppable=GROUP_DROPPABLE,
        keep=[by, "count", "min_price_per_gpu_hour_usd"],
    )  # fmt: skip


PROVIDER_HEADERS = {
    "needs_auth": "auth", "last_fetch_at": "last fetch", "latency_ms": "ms", "count": "offers",
}  # fmt: skip


def render_providers(
    rows: Sequence[Mapping[str, Any]],
    fmt: OutputFormat,
    *,
    now: datetime | None = None,
    out: TextIO | None = None,
    no_color: bool = False,
) -> None:
    """``gpubroker providers``: name and status always shown; ages humanised on a terminal."""
    stream = out or sys.stdout
    moment = now or datetime.now(UTC)
    cells = []
    for row in rows:
        cell = {c: cell_text(v) for c, v in row.items()}
        when = row.get("last_fetch_at")
        if when and is_tty(stream):
            with contextlib.suppress(ValueError):
                then = datetime.fromisoformat(str(when))
                then = then if then.tzinfo else then.replace(tzinfo=UTC)
                cell["last_fetch_at"] = humanize_age((moment - then).total_seconds()) + " ago"
        if row.get("latency_ms") is not None:
            cell["latency_ms"] = f"{row['latency_ms']:.0f}"
        skipped = row.get("skipped") or {}
        # The total first: cut short on a narrow terminal, the cell still says how many.
        cell["skipped"] = skipped_text(skipped) if isinstance(skipped, dict) else ""
        cells.append(cell)
    write_data(
        rows, fmt, headers=PROVIDER_HEADERS, table_rows=cells, out=stream, no_color=no_color,
        droppable=["label", "latency_ms", "needs_auth", "live", "last_fetch_at", "count"],
        keep=["provider", "status"],
    )  # fmt: skip


GPU_DROPPABLE = [
    "display_name", "vendor", "fp32_tflops", "fp16_tflops", "compute_capability",
    "bandwidth_gbps", "architecture",
]  # fmt: skip


# --- records and panels (one object, or a dashboard of sections) ---------------------------

#: The widest a record or dashboard is drawn, even on a wider terminal.
PANEL_WIDTH = 80


def trend(values: Sequence[float]) -> str:
    """A sparkline of ``values`` (e.g. revenue per month)."""
    return sparkline(values)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _record_lines(cells: Sequence[tuple[str, str]], width: int) -> list[str]:
    import textwrap

    label_width = min(max((len(k) for k, _ in cells), default=0), 28)
    lines = []
    for label, value in cells:
        room = max(20, width - label_width - 2)
        # A long word (a URL, an id) stays whole so that it can be copied.
        wrapped = textwrap.wrap(value, room, break_long_words=False) or [""]
        lines.append(f"{label:<{label_width}}  {wrapped[0]}")
        lines.extend(f"{'':<{label_width}}  {more}" for more in wrapped[1:])
    return lines


def write_record(
    record: Mapping[str, Any],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
    cells: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    no_color: bool = False,
    json_object: Any = None,
) -> None:
    """Write one object: a JSON object, one csv/tsv row, or a field/value panel.

    Args:
        record: the data (JSON-ready; the contract for json/jsonl/csv/tsv).
        title: the panel's title (table and markdown only).
        labels: display names of the fields.
        cells: pre-formatted values for the panel (default: `cell_text`); only these
            fields are shown when given.
        json_object: emit this instead of ``record`` for ``--format json``.
    """
    stream = out or sys.stdout
    if fmt in (OutputFormat.JSON, OutputFormat.JSONL, OutputFormat.CSV, OutputFormat.TSV):
        if fmt is OutputFormat.JSON:
            payload = json_object if json_object is not None else dict(record)
            stream.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
        else:
            write_data([record], fmt, out=stream)
        return
    shown = cells if cells is not None else {k: cell_text(v) for k, v in record.items()}
    pairs = [(sanitize((labels or {}).get(k, k)), sanitize(v)) for k, v in shown.items()]
    if fmt is OutputFormat.MARKDOWN:
        from tabulate import tabulate

        if title:
            stream.write(f"**{title}**\n\n")
        body = tabulate(pairs, headers=["field", "value"], tablefmt="github", disable_numparse=True)
        stream.write(body + "\n")
        return
    if is_tty(stream):
        from rich.console import Console
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        console = Console(
            file=stream,
            no_color=no_color_requested(no_color),
            highlight=False,
            markup=False,
            emoji=False,
        )
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in pairs:
            grid.add_row(Text(label), Text(value))
        width = min(console.width, PANEL_WIDTH)
        console.print(Panel(grid, title=Text(title) if title else None, width=width))
        return
    if title:
        stream.write(f"{title}\n")
    for line in _record_lines(pairs, PANEL_WIDTH - (2 if title else 0)):
        stream.write(("  " if title else "") + line + "\n")
