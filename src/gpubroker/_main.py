"""The console-script entry point: ``gpubroker --help`` and ``--version`` answer from here
without importing Typer (about 200 ms less); everything else goes to `gpubroker.cli.main`.
"""

from __future__ import annotations

import gc
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
    # Nothing imported now is ever garbage: the collector neither runs during the imports
    # nor scans what they built afterwards (gpubroker._gc says why collections cost time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        from gpubroker.cli import main as cli_main
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    cli_main(argv)
