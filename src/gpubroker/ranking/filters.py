"""Filters: the `Query` fields plus the ``where`` expression language, applied centrally.

Providers may push filters down to their APIs as a hint; `compile_query` is always applied
again to every offer, so a lax provider cannot leak offers.

The `--where` language::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | "(" expr ")" | cond
    cond    := FIELD OP value | FIELD ("in" | "notin") (list | range) | FIELD "=" range
    OP      := = == != < <= > >=
    list    := "[" value ("," value)* "]"
    range   := NUMBER ".." NUMBER            (inclusive)
    value   := NUMBER[UNIT] | WORD | "quoted" | true | false

Units on memory fields: GB and GiB are both read as GiB (vendors market binary sizes in
"GB": an "80 GB" H100 has 80 GiB), TB/TiB as 1024 GiB, MB/MiB as 1/1024 GiB.
GPU names (``gpu``) go through the registry, so ``gpu in [h100, a100]`` matches every H100
and A100 model. A name the registry does not know matches offers whose GPU has that name,
case- and space-insensitively (providers list models before any registry knows them).

GPU requests in ``Query.gpus`` may carry a count in SkyPilot's syntax: ``H100:8`` means
offers with exactly eight H100s. A count, or ``min_gpus``, states the need: ranking then
weighs whole-offer totals (`states_gpu_count`).
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gpubroker import gpus
from gpubroker.errors import QuerySyntaxError, UnknownGPUError, UsageError, clip
from gpubroker.models import Query
from gpubroker.ranking.criteria import CRITERIA
from gpubroker.rows import OfferLike

Predicate = Callable[[OfferLike], bool]

MEMORY_UNITS = {"gib": 1.0, "gb": 1.0, "g": 1.0, "tib": 1024.0, "tb": 1024.0, "mib": 1 / 1024,
                "mb": 1 / 1024}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Field:
    kind: str  # "number" | "memory" | "text" | "bool" | "gpu"
    get: Callable[[OfferLike], Any]
    help: str


def _tflops(o: OfferLike) -> float | None:
    return CRITERIA["tflops"].value(o)


FIELDS: dict[str, Field] = {
    "gpu": Field("gpu", lambda o: o.gpu_model, "GPU model, through the registry"),
    "gpus": Field("number", lambda o: o.gpu_count, "number of GPUs"),
    "vram": Field("memory", lambda o: o.gpu_memory_gib, "memory per GPU, GiB"),
    "total_vram": Field("memory", lambda o: o.total_gpu_memory_gib, "memory of all GPUs, GiB"),
    "price": Field("number", lambda o: o.price_per_hour_usd, "offer price, $/h"),
    "price_per_gpu": Field("number", lambda o: o.price_per_gpu_hour_usd, "price per GPU, $/h"),
    "vcpus": Field("number", lambda o: o.vcpus, "vCPUs"),
    "ram": Field("memory", lambda o: o.ram_gib, "RAM, GiB"),
    "disk": Field("memory", lambda o: o.disk_gib, "disk, GiB"),
    "reliability": Field("number", lambda o: o.reliability, "reliability 0–1"),
    "tflops": Field("number", _tflops, "total dense BF16/FP16 TFLOPS"),
    "provider": Field("text", lambda o: o.provider, "provider name"),
    "region": Field("text", lambda o: o.region, "region"),
    "country": Field("text", lambda o: o.country, "ISO-2 country"),
    "availability": Field("text", lambda o: o.availability.value, "available/limited/..."),
    "source": Field("text", lambda o: o.source.value, "live/cache/catalog"),
    "spot": Field("bool", lambda o: o.spot, "interruptible capacity"),
    "cuda": Field("number", lambda o: _float(o.cuda_version), "max CUDA version"),
}
FIELD_ALIASES = {"price_per_hour": "price", "count": "gpus", "gpu_count": "gpus", "mem": "vram",
                 "memory": "vram", "cpus": "vcpus", "cpu": "vcpus", "model": "gpu"}  # fmt: skip


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


_TOKEN_PATTERN = r"""
    (?P<ws>\s+)
  | (?P<range>\.\.)
  | (?P<op>==|!=|>=|<=|=|<|>)
  | (?P<punct>[\[\](),])
  | (?P<string>"[^"]*"|'[^']*')
  | (?P<number>\d+(?:\.\d+)?(?:[a-zA-Z]+)?(?![\w\-]))
  | (?P<word>[A-Za-z0-9_][A-Za-z0-9_.\-+/:]*?(?=\.\.|[\s\[\](),=!<>]|$))
    """


@functools.cache
def _token_regex() -> re.Pattern[str]:
    """Compiled on first use: most searches have no ``where`` expression."""
    return re.compile(_TOKEN_PATTERN, re.VERBOSE)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _token_regex().match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].split()[0] if text[pos:].split() else text[pos]
            raise QuerySyntaxError(
                f"where: unexpected {clip(bad)!r} at position {pos + 1}", bad, pos
            )
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    return tokens


#: Deepest nesting of parentheses and ``not`` a ``where`` expression may use.
MAX_DEPTH = 50

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def error(self, token: Token | None, expected: str) -> QuerySyntaxError:
        if token is None:
            return QuerySyntaxError(f"where: {expected} at end of expression")
        return QuerySyntaxError(
            f"where: unexpected {clip(token.text)!r} at position {token.pos + 1} ({expected})",
            token.text,
            token.pos,
        )

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token | None:
        tok = self.peek()
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "word" and tok.text.lower() == word:
            self.i += 1
            return True
        return False

    def parse(self) -> Predicate:
        if not self.tokens:
            raise QuerySyntaxError("where: it is empty")
        pred = self.parse_or()
        tok = self.peek()
        if tok is not None:
            raise self.error(tok, "expected 'and', 'or' or the end")
        return pred

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.keyword("or"):
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        return lambda o: any(p(o) for p in parts)

    def parse_and(self) -> Predicate:
        parts = [self.parse_not()]
        while self.keyword("and"):
            parts.append(self.parse_not())
        if len(parts) == 1:
            return parts[0]
        return lambda o: all(p(o) for p in parts)

    def nest(self) -> None:
        """One level deeper into parentheses or ``not``: bounded, so no RecursionError."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(
                f"where: nested more than {MAX_DEPTH} levels deep (parentheses or 'not')"
            )

    def parse_not(self) -> Predicate:
        if self.keyword("not"):
            self.nest()
            inner = self.parse_not()
            self.depth -= 1
            return lambda o: not inner(o)
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.take()
            self.nest()
            inner = self.parse_or()
            self.depth -= 1
            close = self.take()
            if close is None or close.text != ")":
                raise self.error(close, "expected ')'")
            return inner
        return self.parse_cond()

    def parse_cond(self) -> Predicate:
        tok = self.take()
        if tok is None or tok.kind != "word":
            raise self.error(tok, "expected a field name")
        name = FIELD_ALIASES.get(tok.text.lower(), tok.text.lower())
        field = FIELDS.get(name)
        if field is None:
            raise QuerySyntaxError(
                f"where: unknown field {clip(tok.text)!r} at position {tok.pos + 1};"
                f" fields: {', '.join(FIELDS)}",
                tok.text,
                tok.pos,
            )
        op_tok = self.take()
        if op_tok is None:
            raise self.error(None, f"expected an operator after {clip(tok.text)!r}")
        op = op_tok.text.lower()
        if op_tok.kind == "word" and op in ("in", "notin"):
            values = self.parse_list_or_range(field)
            return _membership(field, values, negate=op == "notin")
        if op_tok.kind != "op":
            raise self.error(op_tok, "expected an operator (= != < <= > >= in notin)")
        nxt = self.tokens[self.i + 1] if self.i + 1 < len(self.tokens) else None
        if op in ("=", "==") and nxt is not None and nxt.kind == "range":
            return _membership(field, self.parse_list_or_range(field), negate=False)
        value = self.parse_value(field)
        return _compare(field, op, value, op_tok)

    def parse_list_or_range(self, field: Field) -> list[Any] | tuple[float, float]:
        tok = self.peek()
        if tok is not None and tok.text == "[":
            self.take()
            values = [self.parse_value(field)]
            while True:
                sep = self.take()
                if sep is not None and sep.text == "]":
                    return values
                if sep is None or sep.text != ",":
                    raise self.error(sep, "expected ',' or ']'")
                values.append(self.parse_value(field))
        low = self.parse_value(field)
        dots = self.take()
        if dots is None or dots.kind != "range":
            raise self.error(dots, "expected a [list] or a LOW..HIGH range")
        high = self.parse_value(field)
        if not isinstance(low, float) or not isinstance(high, float):
            raise self.error(tok, "a range needs numbers")
        return (low, high)

    def parse_value(self, field: Field) -> Any:
        tok = self.take()
        if tok is None:
            raise self.error(None, "expected a value")
        if tok.kind in ("op", "punct", "range"):
            raise self.error(tok, "expected a value")
        text = tok.text.strip("\"'") if tok.kind == "string" else tok.text
        if field.kind in ("number", "memory"):
            m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-zA-Z]*)", text)
            if m is None or tok.kind == "string":
                raise self.error(tok, "expected a number")
            number, unit = float(m.group(1)), m.group(2).lower()
            if unit:
                if field.kind != "memory" or unit not in MEMORY_UNITS:
                    raise self.error(tok, f"unit {m.group(2)!r} not allowed here")
                number *= MEMORY_UNITS[unit]
            return number
        if field.kind == "bool":
            low = text.lower()
            if low in ("true", "yes", "1"):
                return True
            if low in ("false", "no", "0"):
                return False
            raise self.error(tok, "expected true or false")
        if field.kind == "gpu":
            try:
                return resolve_gpu_name(text)
            except UsageError as exc:
                raise QuerySyntaxError(
                    f"where: bad expression at {clip(tok.text)!r} (position {tok.pos + 1}): {exc}",
                    tok.text,
                    tok.pos,
                ) from None
        return text.lower()


def _membership(
    field: Field, values: list[Any] | tuple[float, float], *, negate: bool
) -> Predicate:
    if isinstance(values, tuple):
        low, high = values

        def in_range(o: OfferLike) -> bool:
            v = field.get(o)
            return v is not None and low <= v <= high

        return (lambda o: not in_range(o)) if negate else in_range
    if field.kind == "gpu":
        wanted_gpus: list[GpuMatch] = list(values)

        def gpu_in(o: OfferLike) -> bool:
            return any(m.matches(o) for m in wanted_gpus)

        return (lambda o: not gpu_in(o)) if negate else gpu_in
    wanted = set(values)

    def member(o: OfferLike) -> bool:
        v = field.get(o)
        if v is None:
            return False
        return (v.lower() if isinstance(v, str) else v) in wanted

    return (lambda o: not member(o)) if negate else member


def _compare(field: Field, op: str, value: Any, tok: Token) -> Predicate:
    if field.kind == "gpu":
        if op not in ("=", "==", "!="):
            raise QuerySyntaxError(
                f"where: gpu supports = != in notin, not {op!r} (position {tok.pos + 1})",
                op,
                tok.pos,
            )
        gpu: GpuMatch = value
        return (lambda o: not gpu.matches(o)) if op == "!=" else gpu.matches
    if field.kind in ("text", "bool") and op not in ("=", "==", "!="):
        raise QuerySyntaxError(
            f"where: {op!r} at position {tok.pos + 1} needs a numeric field",
            op,
            tok.pos,
        )
    fn = _OPS[op]

    def compare(o: OfferLike) -> bool:
        v = field.get(o)
        if v is None:
            return op == "!="
        if isinstance(v, str):
            v = v.lower()
        return bool(fn(v, value))

    return compare


def parse_where(text: str) -> Predicate:
    """Compile a ``where`` expression into a predicate.

    Raises:
        QuerySyntaxError: naming the offending token and its position (exit code 2).
    """
    return _Parser(text).parse()


def gpu_name_key(name: str) -> str:
    """A GPU name compared case- and space-insensitively (``RTX 4060 Ti`` = ``rtx_4060ti``)."""
    return re.sub(r"[\s_\-]+", "", name).lower()


@dataclass(frozen=True, slots=True)
class GpuMatch:
    """What one requested GPU name matches.

    Attributes:
        text: the name as given.
        models: canonical registry names it means (empty for a name the registry lacks).
        raw_key: for such a name, the key (`gpu_name_key`) offers' GPU names are compared on.
        suggestions: registry names close to an unknown name.
    """

    text: str
    models: frozenset[str]
    raw_key: str | None = None
    suggestions: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self.raw_key is None

    def matches(self, offer: OfferLike) -> bool:
        if self.raw_key is None:
            return offer.gpu_model in self.models
        return gpu_name_key(offer.gpu_model) == self.raw_key


def resolve_gpu_name(name: str) -> GpuMatch:
    """Resolve one GPU name through the registry; an unknown name matches by name.

    Raises:
        AmbiguousGPUError: the name is a prefix of models from several families.
    """
    try:
        return GpuMatch(name, frozenset(spec.name for spec in gpus.resolve_query(name)))
    except UnknownGPUError as exc:
        return GpuMatch(name, frozenset(), gpu_name_key(name), tuple(exc.suggestions))


@dataclass(frozen=True, slots=True)
class GpuRequest:
    """One item of ``Query.gpus``: a GPU name and, in SkyPilot's syntax, a count.

    Attributes:
        gpu: what the name matches.
        count: exact number of GPUs wanted (``H100:8``), or None for any.
    """

    gpu: GpuMatch
    count: int | None = None

    def matches(self, offer: OfferLike) -> bool:
        return (self.count is None or offer.gpu_count == self.count) and self.gpu.matches(offer)


def _split_count(item: str) -> tuple[str, int | None]:
    name, sep, count = item.rpartition(":")
    if not sep:
        return item.strip(), None
    name, count = name.strip(), count.strip()
    if not name or not count.isdigit() or int(count) < 1:
        raise UsageError(
            f"gpus: bad GPU request {item.strip()!r}: expected NAME or NAME:COUNT"
            " with a whole COUNT ≥ 1 (e.g. H100:8)",
            param="gpus",
        )
    return name, int(count)


def parse_gpu_requests(items: list[str]) -> list[GpuRequest]:
    """Parse ``Query.gpus`` (comma lists allowed, ``NAME:COUNT`` per item).

    Raises:
        UsageError: a malformed count or an ambiguous name.
    """
    requests: list[GpuRequest] = []
    for item in items:
        for part in item.split(","):
            if part.strip():
                name, count = _split_count(part)
                requests.append(GpuRequest(resolve_gpu_name(name), count))
    return requests


def resolve_gpu_names(names: list[str]) -> frozenset[str]:
    """Canonical model names for the names in ``Query.gpus`` (unknown names add none)."""
    return frozenset(m for r in parse_gpu_requests(names) for m in r.gpu.models)


def states_gpu_count(query: Query) -> bool:
    """True when the query says how many GPUs it needs (``min_gpus`` or ``NAME:COUNT``).

    Ranking presets then weigh whole-offer totals; otherwise offers compete per GPU.
    """
    if query.min_gpus is not None:
        return True
    return any(_split_count(part)[1] is not None for item in query.gpus
               for part in item.split(",") if part.strip())  # fmt: skip


def gpu_notes(query: Query) -> list[str]:
    """One note per requested GPU name the registry does not know (matched by name)."""
    notes = []
    for request in parse_gpu_requests(normalise_query(query).gpus):
        if not request.gpu.known:
            hint = request.gpu.suggestions
            tail = f" (registry names near it: {', '.join(hint)})" if hint else ""
            notes.append(
                f"GPU {clip(request.gpu.text)!r} is not in the registry: matching offers by that"
                f" name{tail}"
            )
    return notes


STALE_AFTER = timedelta(days=183)
"""A price observed longer ago than this (about six months) is stale."""


def is_stale(offer: OfferLike, now: datetime) -> bool:
    """True when the offer's price was observed more than `STALE_AFTER` before ``now``."""
    return now - offer.observed_at > STALE_AFTER


def compile_query(query: Query, *, now: datetime | None = None) -> Predicate:
    """One predicate for every filter of the query (raises UsageError on bad input).

    Args:
        query: the filters.
        now: the clock for ``max_age_days`` (default: the current time).
    """
    query = normalise_query(query)
    checks: list[Predicate] = []
    if query.gpus:
        requests = parse_gpu_requests(query.gpus)
        if all(r.gpu.known and r.count is None for r in requests):
            # Registry names without counts, the common case: one set lookup per offer.
            models = frozenset(m for r in requests for m in r.gpu.models)
            checks.append(lambda o: o.gpu_model in models)
        else:
            checks.append(lambda o: any(r.matches(o) for r in requests))
    if query.max_age_days is not None:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=query.max_age_days)
        checks.append(lambda o: o.observed_at >= cutoff)
    if query.min_gpus is not None:
        n_min = query.min_gpus
        checks.append(lambda o: o.gpu_count >= n_min)
    if query.max_gpus is not None:
        n_max = query.max_gpus
        checks.append(lambda o: o.gpu_count <= n_max)
    if query.min_gpus and query.max_gpus and query.min_gpus > query.max_gpus:
        raise UsageError(
            f"min_gpus {query.min_gpus} is above max_gpus {query.max_gpus}",
            param=("min_gpus", "max_gpus"),
        )
    _at_least(checks, query.min_vram_gib, lambda o: o.gpu_memory_gib)
    _at_least(checks, query.min_reliability, lambda o: o.reliability)
    _at_least(checks, query.min_vcpus, lambda o: o.vcpus)
    _at_least(checks, query.min_ram_gib, lambda o: o.ram_gib)
    _at_least(checks, query.min_disk_gib, lambda o: o.disk_gib)
    if query.max_price_usd is not None:
        cap = query.max_price_usd
        checks.append(lambda o: o.price_per_hour_usd <= cap)
    if query.max_price_per_gpu_usd is not None:
        cap_gpu = query.max_price_per_gpu_usd
        checks.append(lambda o: o.price_per_gpu_hour_usd <= cap_gpu)
    _one_of(checks, query.providers, lambda o: o.provider)
    _one_of(checks, query.regions, lambda o: o.region)
    _one_of(checks, query.countries, lambda o: o.country)
    if query.spot is not None:
        spot = query.spot
        checks.append(lambda o: o.spot is spot)
    if query.available_only:
        checks.append(lambda o: o.availability.value != "unavailable")
    if query.where:
        checks.append(parse_where(query.where))
    if not checks:
        return match_all
    if len(checks) == 1:
        return checks[0]

    def every(offer: OfferLike) -> bool:
        # A loop, not all(generator): about 4x faster per offer (no generator to build).
        for check in checks:  # noqa: SIM110
            if not check(offer):
                return False
        return True

    return every


def match_all(offer: OfferLike) -> bool:
    """The predicate of a query without filters (`compile_query` returns this very one, so
    a caller may skip calling it 50,000 times)."""
    return True


def _at_least(
    checks: list[Predicate], minimum: float | None, get: Callable[[OfferLike], float | None]
) -> None:
    if minimum is None:
        return

    def check(o: OfferLike) -> bool:
        v = get(o)
        return v is not None and v >= minimum

    checks.append(check)


def _wanted(values: list[str]) -> frozenset[str]:
    """Lower-cased names of a comma-list filter (``["us-east-1,EU-west-1"]``)."""
    return frozenset(v.strip().lower() for item in values for v in item.split(",") if v.strip())


def _one_of(
    checks: list[Predicate], values: list[str], get: Callable[[OfferLike], str | None]
) -> None:
    wanted = _wanted(values)
    if not wanted:
        return

    def check(o: OfferLike) -> bool:
        v = get(o)
        return v is not None and v.lower() in wanted

    checks.append(check)


_ISO2 = re.compile(r"^[A-Z]{2}$")
_LIST_FIELDS = ("gpus", "providers", "regions", "countries")


def normalise_query(query: Query) -> Query:
    """The query as users meant it, or a `UsageError` for input that cannot mean anything.

    Full-width and other compatibility characters are folded (NFKC: ``ｈ１００`` is
    ``h100``); a list whose every entry is blank is an error, not "no filter"; countries
    must be ISO 3166-1 alpha-2 codes.
    """
    update: dict[str, Any] = {}
    for name in _LIST_FIELDS:
        values: list[str] = getattr(query, name)
        if not values:
            continue
        folded = [unicodedata.normalize("NFKC", v) for v in values]
        parts = [p.strip() for v in folded for p in v.split(",")]
        if not any(parts):
            raise UsageError(f"{name}: empty value; give a name or leave it out", param=name)
        update[name] = folded
    for code in (p.strip() for v in update.get("countries", []) for p in v.split(",")):
        if code and not _ISO2.match(code.upper()):
            raise UsageError(
                f"countries: {clip(code)!r} is not an ISO 3166-1 alpha-2 code (e.g. US, DE, JP)",
                param="countries",
            )
    if query.where is not None:
        update["where"] = unicodedata.normalize("NFKC", query.where)
    return query.model_copy(update=update) if update else query


def matches(offer: OfferLike, query: Query) -> bool:
    """True when the offer passes every filter of the query."""
    return compile_query(query)(offer)


@dataclass(frozen=True, slots=True)
class Pushdown:
    """The filters of a `Query` that a cache read can apply before any row is built.

    A hint, never the truth: the rows it keeps are a superset of the query's matches, and
    `compile_query`'s predicate is applied to them afterwards. ``None`` means "no filter";
    names are canonical GPU models, and lower-cased regions and countries (matched
    case-insensitively, as the predicate does). The ``where`` expression is not pushed down.
    """

    gpu_models: frozenset[str] | None = None
    min_gpus: int | None = None
    max_gpus: int | None = None
    min_vram_gib: float | None = None
    max_price_usd: float | None = None
    max_price_per_gpu_usd: float | None = None
    min_reliability: float | None = None
    min_vcpus: float | None = None
    min_ram_gib: float | None = None
    min_disk_gib: float | None = None
    spot: bool | None = None
    available_only: bool = False
    regions: frozenset[str] | None = None
    countries: frozenset[str] | None = None


def pushdown(query: Query) -> Pushdown:
    """The part of ``query`` a cache read can apply in SQL (see `Pushdown`).

    GPU names go through the registry as `compile_query` resolves them; a name the registry
    does not know matches offers by name, so a query with one pushes no GPU filter down.
    ``max_age_days`` is left to the predicate.

    Raises:
        UsageError: what `compile_query` raises for the same query.
    """
    query = normalise_query(query)
    gpu_models: frozenset[str] | None = None
    if query.gpus:
        requests = parse_gpu_requests(query.gpus)
        if all(r.gpu.known for r in requests):
            gpu_models = frozenset(m for r in requests for m in r.gpu.models)
    return Pushdown(
        gpu_models=gpu_models,
        min_gpus=query.min_gpus,
        max_gpus=query.max_gpus,
        min_vram_gib=query.min_vram_gib,
        max_price_usd=query.max_price_usd,
        max_price_per_gpu_usd=query.max_price_per_gpu_usd,
        min_reliability=query.min_reliability,
        min_vcpus=query.min_vcpus,
        min_ram_gib=query.min_ram_gib,
        min_disk_gib=query.min_disk_gib,
        spot=query.spot,
        available_only=query.available_only,
        regions=_wanted(query.regions) or None,
        countries=_wanted(query.countries) or None,
    )
