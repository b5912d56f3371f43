"""`gpubroker doctor`: check the set-up, one line per check, with the fix."""

from __future__ import annotations

from typing import Annotated

import typer

from gpubroker.commands import _options as o
from gpubroker.errors import GpubrokerError

MARKS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}


class ChecksFailedError(GpubrokerError):
    """At least one doctor check failed."""


def doctor(
    ctx: typer.Context,
    offline: Annotated[
        bool, typer.Option("--offline", help="Skip the checks that need the network.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds per network check.")
    ] = 5.0,
    fmt: o.FormatOpt = None,
    as_json: o.JsonOpt = False,
) -> None:
    """Check config, home, database, keyring, provider keys and reachability, AWS, the API.

    One line per check (ok / warn / fail) with the fix; exit 0 unless a check fails.

    \b
    Examples:
      gpubroker doctor
      gpubroker doctor --offline --json
    """
    from gpubroker import render

    checks = o.state(ctx).broker().doctor.run(network=not offline, timeout_s=timeout)
    rows = [c.as_dict() for c in checks]
    output = o.output_format(ctx, fmt, as_json)
    if output.value == "table":
        render.doctor_lines(rows, no_color=o.state(ctx).no_color)
    else:
        render.write_data(rows, output)
    failed = [c for c in checks if c.status.value == "fail"]
    if failed:
        raise ChecksFailedError(
            f"{len(failed)} check(s) failed: {', '.join(dict.fromkeys(c.check for c in failed))}"
        )
