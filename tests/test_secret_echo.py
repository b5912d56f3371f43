"""A provider that echoes the key back in an error body never gets it printed or stored."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from gpubroker.cli import app

KEY = "echo-me-secret-key-9876"
ENDPOINTS = {
    "lambda": ("GET", "https://cloud.lambda.ai/api/v1/instance-types", "LAMBDA_API_KEY"),
    "hyperstack": (
        "GET",
        "https://infrahub-api.nexgencloud.com/v1/core/flavors",
        "HYPERSTACK_API_KEY",
    ),
    "tensordock": (
        "GET",
        "https://dashboard.tensordock.com/api/v2/locations",
        "TENSORDOCK_API_KEY",
    ),
}


@pytest.mark.parametrize("status", [401, 403, 500, 400])
@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_echoed_key_is_redacted_everywhere(
    name: str,
    status: int,
    http_mock: respx.MockRouter,
    monkeypatch: pytest.MonkeyPatch,
    hermetic_env: Path,
) -> None:
    method, url, env = ENDPOINTS[name]
    monkeypatch.setenv(env, KEY)
    body = {"error": {"message": f"invalid api key {KEY}"}, "message": f"key {KEY} rejected"}
    http_mock.route(method=method, url__startswith=url).mock(
        return_value=httpx.Response(status, json=body)
    )
    # Hyperstack also asks its pricebook at the same time.
    http_mock.get("https://infrahub-api.nexgencloud.com/v1/pricebook").mock(
        return_value=httpx.Response(status, json=body)
    )
    result = CliRunner().invoke(
        app, ["--debug", "browse", "--provider", name, "--fresh", "--json"],
        catch_exceptions=False,
    )  # fmt: skip
    assert KEY not in result.stdout
    assert KEY not in result.stderr
    assert "<redacted>" in result.stderr or status in (401, 403)
    database = (hermetic_env / "gpubroker.db").read_bytes()
    for suffix in ("-wal",):
        wal = hermetic_env / f"gpubroker.db{suffix}"
        if wal.exists():
            database += wal.read_bytes()
    assert KEY.encode() not in database
