"""Hermetic test defaults: temp home, scrubbed env, in-memory keyring, no real HTTP."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FIXTURES = Path(__file__).parent / "fixtures"

SCRUB_PREFIXES = (
    "GPUBROKER_",
    "AWS_",
    "VAST_",
    "RUNPOD_",
    "LAMBDA_",
    "VERDA_",
    "DATACRUNCH_",
    "VULTR_",
    "TENSORDOCK_",
    "HYPERSTACK_",
    "CUDO_",
    "GENESISCLOUD_",
    "ECS_",  # the hosted backend's POD settings (ECS_CLUSTER, ECS_SUBNETS...)
    "MOTO_",
)
SCRUB_NAMES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "PYTHON_KEYRING_BACKEND",
    "FORCE_COLOR",
    "TERM",
)


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict, for tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None


def load_fixture(provider: str, name: str) -> Any:
    """Parsed JSON from tests/fixtures/<provider>/<name>."""
    return json.loads((FIXTURES / provider / name).read_text())


@pytest.fixture(autouse=True)
def hermetic_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith(SCRUB_PREFIXES) or key in SCRUB_NAMES:
            monkeypatch.delenv(key, raising=False)
    home = tmp_path / "gpubroker-home"
    monkeypatch.setenv("GPUBROKER_HOME", str(home))
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def http_mock() -> Iterator[respx.MockRouter]:
    """Every httpx request must hit a route; an unmatched one fails the test."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real AWS-compatible endpoint on loopback (moto), started once per session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_env(hermetic_env: object, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point boto3 at the moto server with dummy credentials; state reset for each test."""
    import urllib.request

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return moto_endpoint
