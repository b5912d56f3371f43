"""Every ```python block of the README runs as written (offline, in a temporary home)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_readme_has_python_examples() -> None:
    assert BLOCKS


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_python_block_runs(code: str, hermetic_env: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HTTP", "HTTPS", "ALL_"))}
    env["GPUBROKER_OFFLINE"] = "true"  # examples must answer from the bundled catalog
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
