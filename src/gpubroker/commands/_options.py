"""Shared CLI options and the per-invocation state the root callback sets up.

Commands reach the library only through `gpubroker.broker.Broker` (plus the models, the
errors and the renderer), imported inside the command bodies so that building the CLI and
printing help imports neither pydantic nor the models (``tests/test_layers.py`` checks both).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from gpubroker.errors import UsageError
from gpubroker.vocabulary import PRESET_NAMES, OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

    from gpubroker.broker import Broker
    from gpubroker.models import ProviderStatus, Query

#: Library parameter → the flag a CLI user typed (default: ``--`` + the name, dashed).
PARAM_FLAGS = {
    "gpus": "--gpu",
    "providers": "--provider",
    "regions": "--region",
    "countries": "--country",
    "preset": "--optimize",
    "min_vram_gib": "--min-vram",
    "max_price_usd": "--max-price",
    "max_price_per_gpu_usd": "--max-price-per-gpu",
    "min_ram_gib": "--min-ram",
    "min_disk_gib": "--min-disk",
    "available_only": "--available",
    "max_age_days": "--max-age",
    # PODs and their configs
    "offer_id": "--offer",
    "provider_offer_id": "--offer",
    "provider_selection_mode": "--mode",
    "gpu_type": "--gpu",
    "gpu_memory_gib": "--gpu-memory",
    "ram_gib": "--ram",
    "storage_gib": "--storage",
    "network_speed_gbps": "--network-speed",
    "availability_zone": "--zone",
    "spot_instance": "--spot",
    "max_spot_price_usd": "--max-spot-price",
    "cpu_units": "--cpu",
    "memory_mib": "--memory",
    "budget_per_hour_usd": "--budget",
    "budget_per_month_usd": "--budget",
    "tags": "--tag",
}


def flag_for(param: str) -> str:
    """The CLI flag of a library parameter (``min_gpus`` → ``--min-gpus``)."""
    return PARAM_FLAGS.get(param, "--" + param.replace("_", "-"))


@dataclass
class AppState:
    """Global flags, resolved once per invocation."""

    profile: str | None = None
    format: OutputFormat | None = None
    no_color: bool = False
    debug: bool = False
    _broker: Broker | None = field(default=None, repr=False)

    def broker(self, **overrides: Any) -> Broker:
        if self._broker is None:
            from gpubroker.broker import Broker

            self._broker = Broker(profile=self.profile, overrides=overrides)
        return self._broker

    def err(self) -> Console:
        from gpubroker import render

        return render.err_console(self.no_color)

    def flush_notes(self) -> None:
        """Print the settings warnings gathered during the command, once, on stderr."""
        if self._broker is not None:
            for note in self._broker.runtime.notes:
                print(f"warning: {note}", file=sys.stderr)
            self._broker.runtime.notes.clear()

    def close(self) -> None:
        if self._broker is not None:
            self._broker.close()
            self._broker = None


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def output_format(
    ctx: typer.Context, fmt: OutputFormat | None, as_json: bool = False
) -> OutputFormat:
    """Command flag > global flag > the profile's ``format`` setting."""
    if as_json:
        return OutputFormat.JSON
    if fmt is not None:
        return fmt
    st = state(ctx)
    if st.format is not None:
        return st.format
    return OutputFormat(st.broker().settings.format)


def stderr_is_tty() -> bool:
    from gpubroker import render

    return render.is_tty(sys.stderr)


@contextlib.contextmanager
def progress(
    err: Callable[[], Console], label: str
) -> Iterator[Callable[[ProviderStatus], None] | None]:
    """A spinner on stderr, only when stderr is a terminal, counting providers as they answer.

    ``err`` makes the console (`AppState.err`): off a terminal it is never called, so rich
    is never loaded.
    """
    if not stderr_is_tty():
        yield None
        return
    done: list[str] = []
    with err().status(f"{label}…") as spinner:

        def update(status: ProviderStatus) -> None:
            done.append(status.provider)
            spinner.update(f"{label}… {len(done)} answered (last: {status.provider})")

        yield update


FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option("--format", "-f", help="Output format.", case_sensitive=False, show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
FieldsOpt = Annotated[
    str | None,
    typer.Option("--fields", help="Comma-separated fields to output (see --format json)."),
]
ProviderOpt = Annotated[
    list[str] | None,
    typer.Option("--provider", "-p", help="Provider(s) to ask; repeat or comma-separate."),
]
GpuOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--gpu",
        "-g",
        help="GPU name(s): h100, 'A100 80GB', RTX_4090; comma list; H100:8 = exactly 8 GPUs.",
    ),
]
MinGpusOpt = Annotated[int | None, typer.Option("--min-gpus", min=1, help="At least N GPUs.")]
MaxGpusOpt = Annotated[int | None, typer.Option("--max-gpus", min=1, help="At most N GPUs.")]
MinVramOpt = Annotated[
    float | None, typer.Option("--min-vram", min=0, help="Memory per GPU, GiB, at least.")
]
MaxPriceOpt = Annotated[
    float | None, typer.Option("--max-price", min=0, help="Offer price, $/h, at most.")
]
MaxPricePerGpuOpt = Annotated[
    float | None, typer.Option("--max-price-per-gpu", min=0, help="$/GPU-hour, at most.")
]
RegionOpt = Annotated[list[str] | None, typer.Option("--region", help="Region(s); comma list.")]
CountryOpt = Annotated[
    list[str] | None, typer.Option("--country", help="ISO-2 country code(s); comma list.")
]
SpotOpt = Annotated[
    bool | None,
    typer.Option("--spot/--on-demand", help="Only spot (interruptible) or only on-demand."),
]
MinReliabilityOpt = Annotated[
    float | None, typer.Option("--min-reliability", min=0, max=1, help="Reliability 0–1.")
]
MinVcpusOpt = Annotated[float | None, typer.Option("--min-vcpus", min=0, help="At least N vCPUs.")]
MinRamOpt = Annotated[float | None, typer.Option("--min-ram", min=0, help="RAM, GiB, at least.")]
MinDiskOpt = Annotated[float | None, typer.Option("--min-disk", min=0, help="Disk, GiB, at least.")]
AvailableOpt = Annotated[
    bool, typer.Option("--available", help="Hide offers the provider reports as unavailable.")
]
WhereOpt = Annotated[
    str | None,
    typer.Option(
        "--where", "-w", help="Filter expression: 'vram>=80 and price<3 and gpu in [h100,a100]'."
    ),
]
AcceptEmptyOpt = Annotated[
    bool,
    typer.Option(
        "--accept-empty",
        help="Accept a listing that collapsed against the cache (else the cache is kept"
        " until a second fetch agrees).",
    ),
]
FreshOpt = Annotated[bool, typer.Option("--fresh", help="Ignore the cache; fetch live.")]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Never touch the network: cache, then catalog.")
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Exit 5 when any provider fails.")]
MaxAgeOpt = Annotated[
    str | None,
    typer.Option(
        "--max-age", help="Only prices observed within this age: 90d, 6mo, 2w, 1y (days if bare)."
    ),
]
OptimizeOpt = Annotated[
    str | None,
    typer.Option(
        "--optimize",
        "-O",
        help=f"Ranking preset: {', '.join(PRESET_NAMES)}.",
        autocompletion=lambda: list(PRESET_NAMES),
    ),
]
WeightsOpt = Annotated[
    str | None,
    typer.Option(
        "--weights", help="Criterion weights instead of a preset: price=0.5,tflops_per_gpu=0.5"
    ),
]

_AGE_UNITS_DAYS = {"h": 1 / 24, "d": 1.0, "w": 7.0, "mo": 30.5, "y": 365.0}


def parse_age_days(text: str) -> float:
    """``90d``, ``6mo``, ``2w``, ``12h``, ``1y`` (or a bare number of days) -> days.

    Raises:
        UsageError: anything else, or a zero age.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(h|d|w|mo|y)?\s*", text.lower())
    if match is None or float(match.group(1)) <= 0:
        raise UsageError(
            f"max_age_days: bad age {text!r}; use a positive number with h, d, w, mo or y"
            " (e.g. 90d, 6mo)",
            param="max_age_days",
        )
    return float(match.group(1)) * _AGE_UNITS_DAYS[match.group(2) or "d"]


def _kw(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                             default=default)  # fmt: skip


#: The filter options of `browse` and `watch`: one definition for both (`search_options`).
FILTER_OPTIONS: tuple[inspect.Parameter, ...] = (
    _kw("gpu", GpuOpt), _kw("min_gpus", MinGpusOpt), _kw("max_gpus", MaxGpusOpt),
    _kw("min_vram", MinVramOpt), _kw("max_price", MaxPriceOpt),
    _kw("max_price_per_gpu", MaxPricePerGpuOpt), _kw("provider", ProviderOpt),
    _kw("region", RegionOpt), _kw("country", CountryOpt), _kw("spot", SpotOpt),
    _kw("min_reliability", MinReliabilityOpt), _kw("min_vcpus", MinVcpusOpt),
    _kw("min_ram", MinRamOpt), _kw("min_disk", MinDiskOpt), _kw("available", AvailableOpt, False),
    _kw("where", WhereOpt), _kw("max_age", MaxAgeOpt),
)  # fmt: skip
#: The ranking options of `browse` and `watch`.
RANKING_OPTIONS: tuple[inspect.Parameter, ...] = (
    _kw("optimize", OptimizeOpt), _kw("weights", WeightsOpt),
)  # fmt: skip


@dataclass(frozen=True)
class SearchArgs:
    """The shared filter and ranking flags as given on the command line."""

    filters: dict[str, Any]
    optimize: str | None = None
    weights: str | None = None

    def query(self) -> Query:
        """The `Query` these flags describe."""
        from gpubroker.models import Query

        f = self.filters
        age = f.get("max_age")
        return Query(
            gpus=f.get("gpu") or [], min_gpus=f.get("min_gpus"), max_gpus=f.get("max_gpus"),
            min_vram_gib=f.get("min_vram"), max_price_usd=f.get("max_price") or None,
            max_price_per_gpu_usd=f.get("max_price_per_gpu") or None,
            providers=f.get("provider") or [], regions=f.get("region") or [],
            countries=f.get("country") or [], spot=f.get("spot"),
            min_reliability=f.get("min_reliability"), min_vcpus=f.get("min_vcpus"),
            min_ram_gib=f.get("min_ram"), min_disk_gib=f.get("min_disk"),
            available_only=bool(f.get("available")), where=f.get("where"),
            max_age_days=parse_age_days(age) if age is not None else None,
        )  # fmt: skip


F = TypeVar("F", bound=Callable[..., Any])


def search_options(func: F) -> F:
    """Give a command browse's filter and ranking options, defined once here.

    The command declares a keyword-only ``search: SearchArgs`` parameter instead of the
    options; Typer sees the options (after the context, before the command's own), and the
    command receives them gathered into one `SearchArgs`.
    """
    own = inspect.signature(func, eval_str=True)
    params = [p for p in own.parameters.values() if p.name != "search"]
    shared = [*FILTER_OPTIONS, *RANKING_OPTIONS]
    names = {p.name for p in shared}
    ranking = {p.name for p in RANKING_OPTIONS}

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in list(kwargs) if name in names}
        filters = {k: v for k, v in given.items() if k not in ranking}
        search = SearchArgs(filters, given.get("optimize"), given.get("weights"))
        return func(*args, search=search, **kwargs)

    # The context first, then the shared options, then the command's own (keyword-only).
    head, rest = params[:1], [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params[1:]]
    signature = own.replace(parameters=[*head, *shared, *rest])
    command.__signature__ = signature  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    return command  # type: ignore[return-value]


def stdin_is_tty() -> bool:
    from gpubroker import render

    return render.is_tty(sys.stdin)


def confirm(question: str, yes: bool, *, action: str) -> None:
    """Go on when ``yes``; otherwise ask on a terminal, and refuse (exit 6) without one.

    Raises:
        RefusedError: declined, or no terminal to ask on and no ``--yes``.
    """
    from gpubroker.errors import RefusedError

    if yes:
        return
    if not stdin_is_tty():
        raise RefusedError(
            f"{action} needs confirmation: pass --yes (there is no terminal to ask on)"
        )
    if not typer.confirm(question, default=False, err=True):
        raise RefusedError(f"{action} cancelled")


@contextlib.contextmanager
def spinner(err: Callable[[], Console], label: str) -> Iterator[Callable[[str], None] | None]:
    """A spinner on stderr showing the latest progress message, only when stderr is a TTY
    (``err`` makes the console, as for `progress`)."""
    if not stderr_is_tty():
        yield None
        return
    from rich.text import Text

    with err().status(Text(f"{label}…")) as status:

        def update(message: str) -> None:
            status.update(Text(f"{label}… {message}"))  # Text: no markup from AWS messages

        yield update


YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking.")]
