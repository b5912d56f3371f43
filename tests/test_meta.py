"""Meta-tests that keep the public surfaces honest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.main import get_command

import gpubroker
from gpubroker.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_all_is_sorted_complete_and_importable() -> None:
    assert gpubroker.__all__ == sorted(gpubroker.__all__)
    for name in gpubroker.__all__:
        assert getattr(gpubroker, name) is not None
    public = set(gpubroker._EXPORTS) | {"__version__"}
    assert set(gpubroker.__all__) == public


def _commands(group: typer.Typer) -> list[tuple[str, object]]:
    root = get_command(group)
    found = []

    def walk(cmd: Any, path: str) -> None:
        if hasattr(cmd, "list_commands"):  # a group; lazy ones are built by get_command
            ctx = typer.Context(cmd)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), f"{path} {name}".strip())
        else:
            found.append((path, cmd))

    walk(root, "")
    return found


def test_every_command_has_help_and_a_readme_mention() -> None:
    commands = _commands(app)
    assert len(commands) >= 14
    for path, cmd in commands:
        assert getattr(cmd, "help", None), f"`gpubroker {path}` has no help text"
        assert f"gpubroker {path}" in README, f"README never shows `gpubroker {path}`"


def test_readme_has_exactly_two_setup_commands() -> None:
    setup = README.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    blocks = [b for i, b in enumerate(setup.split("```")) if i % 2 == 1]
    commands = [line for b in blocks for line in b.splitlines() if line and line != "sh"]
    assert commands == [
        "pip install . && gpubroker browse --gpu H100",
        "pip install -e '.[test]' && pytest",
    ]
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "pip install --quiet -e '.[test]' && pytest" in ci


def test_readme_preset_table_matches_the_code() -> None:
    from gpubroker.ranking import PRESETS

    def weights(cell: str) -> dict[str, float]:
        return {k: float(v) for k, v in (part.split() for part in cell.split(", "))}

    documented = {}
    for line in README.splitlines():
        if line.startswith("| `") and "|" in line[3:]:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            name = cells[0].strip("`")
            if name in PRESETS and len(cells) == 3:
                documented[name] = (weights(cells[1]), weights(cells[2]))
    assert documented == {n: (p.weights(False), p.weights(True)) for n, p in PRESETS.items()}


def test_help_examples_are_never_wrapped() -> None:
    """Every example line of every command's help comes out whole at 50 columns, so it can
    be copied and pasted."""
    from typer.testing import CliRunner

    checked = 0
    for path, cmd in _commands(app):
        doc = getattr(cmd, "help", None) or ""
        examples = [
            line.strip()
            for line in doc.splitlines()
            if line.strip().startswith("gpubroker ") or "| gpubroker " in line
        ]
        if not examples:
            continue
        result = CliRunner().invoke(app, [*path.split(), "--help"], env={"COLUMNS": "50"})
        shown = [line.strip() for line in result.stdout.splitlines()]
        for example in examples:
            assert example in shown, f"`{path} --help` wraps {example!r}"
            checked += 1
    assert checked >= 10
