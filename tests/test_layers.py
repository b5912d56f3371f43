"""Layering rules: commands reach the library only through Broker; help stays light."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import gpubroker

SRC = Path(gpubroker.__file__).parent
COMMANDS = sorted((SRC / "commands").glob("*.py"))

#: What a command module may import from gpubroker: the facade, the shared models and
#: errors, the renderer, the CLI vocabulary, the collector pause and its own package.
ALLOWED = {
    "gpubroker",  # for __version__
    "gpubroker.broker",
    "gpubroker.models",
    "gpubroker.errors",
    "gpubroker.render",
    "gpubroker.vocabulary",
    "gpubroker._gc",  # the process's garbage-collector policy for bulk output, not library work
}


def gpubroker_imports(path: Path) -> list[tuple[int, str]]:
    """Every gpubroker module a file imports (at any depth), with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "gpubroker":
                # `from gpubroker import render` imports the module gpubroker.render
                for alias in node.names:
                    sub = f"gpubroker.{alias.name}"
                    found.append(
                        (
                            node.lineno,
                            sub
                            if (SRC / f"{alias.name}.py").exists() or (SRC / alias.name).is_dir()
                            else "gpubroker",
                        )
                    )
            elif node.module.startswith("gpubroker"):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found.extend(
                (node.lineno, a.name) for a in node.names if a.name.startswith("gpubroker")
            )
    return found


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_commands_reach_the_library_only_through_broker(path: Path) -> None:
    bad = [
        f"{path.name}:{line}: {module}"
        for line, module in gpubroker_imports(path)
        if module not in ALLOWED and not module.startswith("gpubroker.commands")
    ]
    assert not bad, "commands may import only Broker, models, errors, render: " + ", ".join(bad)


def test_the_rule_catches_a_library_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from gpubroker.store import Store\n", encoding="utf-8")
    assert gpubroker_imports(sneaky) == [(2, "gpubroker.store")]


def modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_building_the_cli_imports_neither_pydantic_nor_the_models() -> None:
    loaded = modules_after(
        "import typer.main\nfrom gpubroker.cli import app\ntyper.main.get_command(app)"
    )
    heavy = {"pydantic", "gpubroker.models", "httpx", "rich", "boto3", "keyring", "sqlite_utils"}
    assert not heavy & loaded


@pytest.mark.parametrize("flag", ["--help", "-h", "--version"])
def test_root_help_and_version_import_neither_typer_nor_pydantic(flag: str) -> None:
    loaded = modules_after(f"from gpubroker._main import main\nmain([{flag!r}])")
    assert not {"typer", "pydantic", "gpubroker.models", "click"} & loaded


def test_pre_rendered_root_help_is_what_typer_renders() -> None:
    from gpubroker._help import ROOT_HELP, render_root_help

    assert render_root_help() == ROOT_HELP, "run `python -m gpubroker._help` to regenerate"


def _browse_a_cached_offer(home: Path, args: list[str], then: str) -> tuple[str, str]:
    """Cache one Vast.ai H100 offer in ``home``, then run ``browse --offline --format json``
    with ``args`` in a fresh interpreter followed by ``then``; its stdout and last stderr line."""
    from datetime import UTC, datetime

    from gpubroker.providers.base import make_offer
    from gpubroker.store import Store

    moment = datetime(2026, 9, 1, tzinfo=UTC)
    offer = make_offer(provider="vastai", native_id="1", gpu_name_raw="H100 SXM", gpu_count=2,
                       price_per_hour_usd=4.0, observed_at=moment)  # fmt: skip
    assert offer is not None
    with Store(home / "gpubroker.db") as store:
        store.save_offers("vastai", [offer], moment)
    argv = ["browse", "--offline", *args, "--format", "json"]
    code = (
        "import os, sys, json\n"
        f"os.environ['GPUBROKER_HOME'] = {str(home)!r}\n"
        "from gpubroker._main import main\n"
        f"try:\n    main({argv!r})\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"{then}\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr.strip().splitlines()[-1]


def test_a_cold_browse_of_cached_rows_never_builds_the_offer_validator(tmp_path: Path) -> None:
    """Building `Offer`'s validator costs about 13 ms of a cold start: a browse that shows
    only cached rows reads light rows and the catalog's trusted offers, and never needs it."""
    out, last = _browse_a_cached_offer(
        tmp_path,
        ["--provider", "vastai"],
        "from gpubroker.models import Offer\n"
        "print('built', Offer.__pydantic_complete__, file=sys.stderr)",
    )
    assert "vastai:1" in out
    assert last == "built False"


def test_offline_browse_over_a_cache_loads_no_network_code(tmp_path: Path) -> None:
    """``browse --offline`` reads SQLite and the catalog: no HTTP client, no provider
    payload models, no sqlite-utils (once the database exists: migrating needs it)."""
    out, last = _browse_a_cached_offer(
        tmp_path, ["--gpu", "h100"], "print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    )
    assert "vastai:1" in out
    loaded = set(json.loads(last))
    assert not {"httpx", "sqlite_utils", "boto3", "keyring", "tabulate"} & loaded
    assert not {m for m in loaded if m.startswith("gpubroker.providers.")} - {
        "gpubroker.providers.base",
        "gpubroker.providers.catalog",
    }
