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
    from gpubroker.cli import main as cli_main

    cli_main(argv)
