"""`gpubroker doctor`: one line per check with its fix; exit 0 only when nothing fails."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from gpubroker.cli import app

runner = CliRunner()
KEY = "doctor-lambda-key-31337"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def checks(out: str) -> dict[str, dict[str, str]]:
    rows = json.loads(out)
    return {row["check"]: row for row in rows}


def test_offline_on_a_fresh_machine_is_ok_with_warnings(hermetic_env: Path) -> None:
    code, out, _ = invoke("doctor", "--offline", "--json")
    assert code == 0
    found = checks(out)
    assert found["config"]["status"] == "ok"
    assert found["home"]["status"] == "ok"
    assert found["database"]["status"] == "ok"
    assert found["provider lambda"]["status"] == "warn"
    assert "LAMBDA_API_KEY" in found["provider lambda"]["fix"]
    assert found["provider vastai"]["detail"] == "api_key not set (optional)"
    assert found["aws"]["status"] == "skip"


def test_a_corrupt_database_fails_with_the_fix(hermetic_env: Path) -> None:
    assert invoke("browse", "--offline", "--limit", "1", "--json")[0] == 0
    db = hermetic_env / "gpubroker.db"
    data = bytearray(db.read_bytes())
    data[:16] = b"garbage garbage!"
    db.write_bytes(bytes(data))
    code, out, err = invoke("doctor", "--offline", "--json")
    assert code == 1
    assert checks(out)["database"]["status"] == "fail"
    assert "move" in checks(out)["database"]["fix"]
    assert "1 check(s) failed: database" in err


def test_a_broken_config_fails_but_the_other_checks_still_run(hermetic_env: Path) -> None:
    hermetic_env.mkdir(mode=0o700, parents=True, exist_ok=True)
    (hermetic_env / "config.toml").write_text('[default]\nlimit = "many"\n', encoding="utf-8")
    code, out, _ = invoke("doctor", "--offline", "--json")
    assert code == 1
    found = checks(out)
    assert found["config"]["status"] == "fail"
    assert "limit" in found["config"]["detail"]
    assert found["home"]["status"] == "ok"


def test_a_home_others_can_read_is_a_warning(hermetic_env: Path) -> None:
    hermetic_env.mkdir(mode=0o755, parents=True, exist_ok=True)
    hermetic_env.chmod(0o755)
    code, out, _ = invoke("doctor", "--offline", "--json")
    assert code == 0
    assert checks(out)["home"]["status"] == "warn"
    assert checks(out)["home"]["fix"] == f"chmod 700 {hermetic_env}"


def test_table_output_puts_the_fix_under_each_problem(hermetic_env: Path) -> None:
    code, out, _ = invoke("doctor", "--offline")
    assert code == 0
    lines = out.splitlines()
    warn = next(i for i, line in enumerate(lines) if line.startswith("WARN provider lambda"))
    assert lines[warn + 1].strip().startswith("fix: `gpubroker keys set lambda`")


def test_network_checks_reach_providers_aws_and_the_api(
    http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, moto_env: str
) -> None:
    monkeypatch.setenv("LAMBDA_API_KEY", KEY)
    monkeypatch.setenv("GPUBROKER_PROVIDERS", "lambda,vastai")
    monkeypatch.setenv("GPUBROKER_API_URL", "https://api.example.test")
    http_mock.route(host="127.0.0.1").pass_through()  # moto
    http_mock.get("https://cloud.lambda.ai/api/v1").mock(return_value=httpx.Response(404))
    http_mock.get("https://console.vast.ai").mock(side_effect=httpx.ConnectError("refused"))
    http_mock.get("https://api.example.test/api/v2/admin/public/health").mock(
        return_value=httpx.Response(200, json={"status": "healthy"})
    )
    code, out, err = invoke("doctor", "--json")
    found = checks(out)
    assert found["provider lambda"]["status"] == "ok"
    assert "reachable (HTTP 404" in found["provider lambda"]["detail"]
    assert found["provider vastai"]["status"] == "fail"
    assert found["aws"]["status"] == "ok"
    assert found["ecs"]["status"] == "ok"
    assert found["hosted api"]["status"] == "ok"
    assert code == 1  # vastai unreachable
    assert KEY not in out and KEY not in err


def test_shell_completion_through_the_installed_command() -> None:
    import os
    import shutil
    import subprocess

    exe = shutil.which("gpubroker")
    assert exe is not None
    env = {**os.environ, "_GPUBROKER_COMPLETE": "complete_bash"}
    done = subprocess.run(
        [exe], env={**env, "COMP_WORDS": "gpubroker doc", "COMP_CWORD": "1"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.split() == ["doctor"]
    done = subprocess.run(
        [exe], env={**env, "COMP_WORDS": "gpubroker browse --optimize c", "COMP_CWORD": "3"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.split() == ["cost"]


def _jwt(claims: dict[str, object]) -> str:
    import base64

    def part(data: dict[str, object]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2lnbmF0dXJl"


def test_hosted_api_token_expiry_is_reported_never_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = _jwt({"email": "ops@example.com", "role": "admin", "exp": 1_000_000_000})
    monkeypatch.setenv("GPUBROKER_TOKEN", token)
    code, out, err = invoke("doctor", "--offline", "--json")
    assert code == 0
    found = checks(out)
    assert found["api token"]["status"] == "warn"
    assert "expired" in found["api token"]["detail"]
    assert "auth login" in found["api token"]["fix"]
    assert token not in out + err
