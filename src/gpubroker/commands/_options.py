"""Shared CLI options and the per-invocation state the root callback sets up.

Commands reach the library only through `gpubroker.broker.Broker` (plus the models, the
errors and the renderer), imported inside the command bodies so that building the CLI and
printing help imports neither pydantic nor the models (``tests/test_layers.py`` checks both).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gpubroker.vocabulary import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

    from gpubroker.broker import Broker
    from gpubroker.models import ProviderStatus

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
def progress(err: Console, label: str) -> Iterator[Callable[[ProviderStatus], None] | None]:
    """A spinner on stderr, only when stderr is a terminal, counting providers as they answer."""
    if not stderr_is_tty():
        yield None
        return
    done: list[str] = []
    with err.status(f"{label}…") as spinner:

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
    typer.Option("--gpu", "-g", help="GPU name(s): h100, 'A100 80GB', RTX_4090; comma list."),
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
FreshOpt = Annotated[bool, typer.Option("--fresh", help="Ignore the cache; fetch live.")]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Never touch the network: cache, then catalog.")
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Exit 5 when any provider fails.")]
