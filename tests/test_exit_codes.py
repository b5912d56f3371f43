"""Exit codes a CI script can rely on when providers refuse or fail."""

from __future__ import annotations

import httpx
import pytest
import respx
from typer.testing import CliRunner

from gpubroker.cli import app

TENSORDOCK = "https://dashboard.tensordock.com/api/v2/locations"
#: A marketplace: no list prices, so no catalog rows to fall back on.
VAST = "https://console.vast.ai/api/v0/bundles/"
HYPERSTACK = "https://infrahub-api.nexgencloud.com/v1"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_refused_key_without_a_catalog_fallback_exits_4(
    http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAST_API_KEY", "wrong-key-0001")
    http_mock.post(VAST).mock(return_value=httpx.Response(401, json={"error": "bad key"}))
    code, out, err = invoke("browse", "--provider", "vastai", "--fresh", "--json")
    assert code == 4
    assert "refused the credentials" in err
    assert "wrong-key-0001" not in out + err


def test_strict_with_only_refused_keys_exits_4_and_with_an_outage_exits_5(
    http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENSORDOCK_API_KEY", "wrong-key-0002")
    monkeypatch.setenv("HYPERSTACK_API_KEY", "hs-key-0003")
    http_mock.get(TENSORDOCK).mock(return_value=httpx.Response(403))
    assert invoke("browse", "--provider", "tensordock", "--fresh", "--strict")[0] == 4
    http_mock.get(f"{HYPERSTACK}/core/flavors").mock(return_value=httpx.Response(503))
    http_mock.get(f"{HYPERSTACK}/pricebook").mock(return_value=httpx.Response(503))
    code, _, err = invoke(
        "browse", "--provider", "tensordock,hyperstack", "--fresh", "--strict", "--json"
    )
    assert code == 5
    assert "tensordock (rejected)" in err and "hyperstack (error)" in err


def test_an_outage_without_fallback_exits_5(
    http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    http_mock.post(VAST).mock(side_effect=httpx.ConnectError("down"))
    assert invoke("browse", "--provider", "vastai", "--fresh")[0] == 5
