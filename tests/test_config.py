"""config.toml: values checked on set as on read, errors that name the culprit, safe writes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpubroker.cli import app

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("optimize", "fastest", "unknown preset 'fastest'"),
        ("providers", "nosuch", "unknown provider 'nosuch'"),
        ("api_url", "notaurl", "expected an http(s) URL"),
        ("limit", "1000001", "less than or equal to 1000000"),
        ("regions", "nosuch=us-east-1", "unknown provider 'nosuch'"),
        ("regions", "aws", "expected NAME=VALUE"),
        ("cache_ttl_s", "nan", "cache_ttl_s"),
        ("nosuch", "1", "unknown setting 'nosuch'"),
    ],
)
def test_bad_values_are_refused_on_set_and_nothing_is_written(
    hermetic_env: Path, key: str, value: str, says: str
) -> None:
    assert invoke("config", "set", "limit", "7")[0] == 0
    before = (hermetic_env / "config.toml").read_bytes()
    code, _, err = invoke("config", "set", key, value)
    assert code == 2
    assert says in err
    assert err.startswith("Error: ") and len(err.strip().splitlines()) <= 2
    assert (hermetic_env / "config.toml").read_bytes() == before


def test_a_bad_value_written_by_hand_names_file_profile_and_key(hermetic_env: Path) -> None:
    hermetic_env.mkdir(parents=True, exist_ok=True)
    config = hermetic_env / "config.toml"
    config.write_text('[default]\noptimize = "fastest"\n', encoding="utf-8")
    code, _, err = invoke("browse", "--offline")
    assert code == 2
    assert f"{config} [default] optimize: unknown preset 'fastest'" in err
    # and the same file can be repaired with the CLI
    assert invoke("config", "set", "optimize", "cost")[0] == 0
    assert invoke("browse", "--offline", "--limit", "1", "--json")[0] == 0


def test_invalid_utf8_is_a_config_error_not_an_internal_one(hermetic_env: Path) -> None:
    hermetic_env.mkdir(parents=True, exist_ok=True)
    (hermetic_env / "config.toml").write_bytes(b"[default]\nlimit = 5\n# caf\xe9\n")
    code, _, err = invoke("config", "show")
    assert code == 2
    assert "not valid UTF-8" in err
    assert "internal error" not in err


def test_unknown_keys_are_warned_about_and_ignored(hermetic_env: Path) -> None:
    hermetic_env.mkdir(parents=True, exist_ok=True)
    (hermetic_env / "config.toml").write_text(
        '[default]\nlimit = 3\ncolour = "blue"\n', encoding="utf-8"
    )
    code, out, err = invoke("browse", "--offline", "--json")
    assert code == 0
    assert len(json.loads(out)) == 3
    assert "unknown setting 'colour' ignored" in err


def test_legacy_region_keys_are_read_with_a_note(hermetic_env: Path) -> None:
    hermetic_env.mkdir(parents=True, exist_ok=True)
    (hermetic_env / "config.toml").write_text(
        '[default]\ngcp_regions = ["us-east4"]\n', encoding="utf-8"
    )
    code, out, err = invoke("config", "show", "--json")
    assert code == 0
    assert json.loads(out)["settings"]["regions"] == {"gcp": ["us-east4"]}
    assert "gcp_regions is read as regions.gcp" in err


def test_bad_environment_value_names_the_variable() -> None:
    code, _, err = invoke("browse", "--offline", env={"GPUBROKER_LIMIT": "many"})
    assert code == 2
    assert "GPUBROKER_LIMIT" in err


def test_dotted_keys_set_and_unset_one_provider_of_a_mapping(hermetic_env: Path) -> None:
    assert invoke("config", "set", "regions", "gcp=us-east4")[0] == 0
    assert invoke("config", "set", "regions.aws", "us-east-1, eu-west-1")[0] == 0
    data = tomllib.loads((hermetic_env / "config.toml").read_text(encoding="utf-8"))
    assert data["default"]["regions"] == {"gcp": ["us-east4"], "aws": ["us-east-1", "eu-west-1"]}
    assert invoke("config", "unset", "regions.gcp")[0] == 0
    assert invoke("config", "unset", "regions.gcp")[0] == 3
    data = tomllib.loads((hermetic_env / "config.toml").read_text(encoding="utf-8"))
    assert data["default"]["regions"] == {"aws": ["us-east-1", "eu-west-1"]}


def test_home_is_private_and_config_file_is_0600(hermetic_env: Path) -> None:
    assert invoke("config", "set", "limit", "9")[0] == 0
    assert stat.S_IMODE(os.stat(hermetic_env).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(hermetic_env / "config.toml").st_mode) == 0o600


SETTINGS = {
    "limit": "11",
    "optimize": "cost",
    "format": "json",
    "provider_timeout_s": "7",
    "deadline_s": "20",
    "cache_ttl_s": "60",
    "offline": "true",
    "history_days": "30",
    "api_url": "https://api.example.com",
    "providers": "vastai,runpod",
}


def test_concurrent_config_set_loses_no_key(hermetic_env: Path) -> None:
    env = {**os.environ, "GPUBROKER_HOME": str(hermetic_env)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gpubroker", "config", "set", key, value],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for key, value in SETTINGS.items()
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    data = tomllib.loads((hermetic_env / "config.toml").read_text(encoding="utf-8"))
    assert sorted(data["default"]) == sorted(SETTINGS)
    assert not list(hermetic_env.glob("*.tmp")) and not list(hermetic_env.glob(".*.tmp"))
