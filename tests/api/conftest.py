"""Fixtures for the hosted-API tests: the contract server on 127.0.0.1, and CLI helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx
from typer.testing import CliRunner

from gpubroker.cli import app
from tests.api.contract_server import ContractServer

API = "https://gpubroker.site/api/v2"
runner = CliRunner()


@pytest.fixture
def api_server(
    http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ContractServer]:
    """The contract server, with GPUBROKER_API_URL pointing at it (real HTTP on loopback)."""
    http_mock.route(host="127.0.0.1").pass_through()
    server = ContractServer().start()
    monkeypatch.setenv("GPUBROKER_API_URL", server.url)
    try:
        yield server
    finally:
        server.stop()


def invoke(*args: str, input: str | None = None) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr
