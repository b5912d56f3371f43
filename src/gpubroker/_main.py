"""The console-script entry point: ``gpubroker --help`` and ``--version`` answer from here
without importing Typer (about 200 ms less); everything else goes to `gpubroker.cli.main`.
"""

from __future__ import annotations

import sys

FAST_FLAGS = (["--help"], ["-h"], ["--version"])


def main(argv: list[str] | None = None) -> None:
    """Run ``gpubroker`` with ``argv`` (default: the process arguments)."""
    args = sys.argv[1:] if argv is None else argv
    if args in FAST_FLAGS:
        if args == ["--version"]:
            from gpubroker import __version__

            print(f"gpubroker {__version__}")
            return
        from gpubroker._help import ROOT_HELP

        sys.stdout.write(ROOT_HELP)
        return
    # The collector stays as it is while the CLI imports: freezing what the imports built
    # (gc.freeze) saved no measurable time, and raised the peak memory of a 50,000-offer
    # `offers refresh` by about 22 MiB (bench/run.py); the bulk work pauses it instead
    # (gpubroker._gc).
    from gpubroker.cli import main as cli_main

    cli_main(argv)
