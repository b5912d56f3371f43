"""Credentials never cross origins: real local servers, one redirecting to the other."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import respx

from gpubroker.errors import ProviderResponseError
from gpubroker.http import make_client
from gpubroker.providers.gcp import GcpProvider
from gpubroker.providers.hyperstack import HyperstackProvider
from gpubroker.providers.lambdalabs import LambdaProvider
from gpubroker.providers.verda import VerdaProvider
from tests.conftest import load_fixture

SECRET = "sk-live-do-not-leak-4242"


@dataclass
class Seen:
    """Everything a server received: path, headers and body of each request."""

    requests: list[dict[str, Any]] = field(default_factory=list)

    def leaked(self) -> bool:
        return any(SECRET in json.dumps(r) for r in self.requests)


@contextlib.contextmanager
def serve(handler: Any) -> Iterator[tuple[str, Seen]]:
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _record(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            seen.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers),
                 "body": body}
            )  # fmt: skip
            status, headers, payload = handler(self.command, self.path)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            data = json.dumps(payload).encode() if payload is not None else b""
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _record

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def local(http_mock: respx.MockRouter) -> None:
    http_mock.route(host="127.0.0.1").pass_through()


@pytest.fixture
def attacker() -> Iterator[tuple[str, Seen]]:
    """The second origin: answers everything with an empty JSON list."""
    with serve(lambda method, path: (200, {}, [])) as server:
        yield server


def redirecting_to(target: str, status: int = 302) -> Any:
    return lambda method, path: (status, {"Location": f"{target}{path}"}, None)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_custom_key_header_never_follows_to_another_origin(
    local: None, attacker: tuple[str, Seen], status: int
) -> None:
    evil_url, evil = attacker
    with serve(redirecting_to(evil_url, status)) as (base, _):
        provider = HyperstackProvider({"api_key": SECRET}, base_url=base)
        with make_client() as client, pytest.raises(ProviderResponseError) as info:
            provider.fetch(client)
    assert "redirected to another origin" in str(info.value)
    assert not evil.leaked()


def test_query_key_header_of_gcp_never_follows(local: None, attacker: tuple[str, Seen]) -> None:
    evil_url, evil = attacker
    with serve(redirecting_to(evil_url)) as (base, _):
        provider = GcpProvider({"api_key": SECRET}, base_url=base)
        with make_client() as client, pytest.raises(ProviderResponseError):
            provider.fetch(client)
    assert not evil.leaked()


def test_client_secret_in_a_307_body_never_follows(local: None, attacker: tuple[str, Seen]) -> None:
    evil_url, evil = attacker
    with serve(redirecting_to(evil_url, 307)) as (base, _):
        provider = VerdaProvider({"client_id": "id-1", "client_secret": SECRET}, base_url=base)
        with make_client() as client, pytest.raises(ProviderResponseError):
            provider.fetch(client)
    assert not evil.leaked()


def test_bearer_token_is_dropped_across_origins_so_the_redirect_is_followed(
    local: None, attacker: tuple[str, Seen]
) -> None:
    """httpx strips Authorization on a cross-origin hop: nothing secret is left to send."""
    evil_url, evil = attacker
    with serve(redirecting_to(evil_url)) as (base, _):
        provider = LambdaProvider({"api_key": SECRET}, base_url=base)
        with make_client() as client, pytest.raises(ProviderResponseError):
            provider.fetch(client)  # the other origin answers [] — not Lambda's shape
    assert len(evil.requests) == 1
    assert not evil.leaked()


def test_same_origin_redirect_is_followed_with_the_key() -> None:
    listing = load_fixture("lambda", "instance_types.json")

    def answer(method: str, path: str) -> tuple[int, dict[str, str], Any]:
        if path == "/instance-types":
            return 302, {"Location": "/moved/instance-types"}, None
        return 200, {}, listing

    with respx.mock(assert_all_mocked=False) as router:
        router.route(host="127.0.0.1").pass_through()
        with serve(answer) as (base, seen):
            provider = LambdaProvider({"api_key": SECRET}, base_url=base)
            with make_client() as client:
                offers = provider.fetch(client).offers
    assert offers
    assert [r["path"] for r in seen.requests] == ["/instance-types", "/moved/instance-types"]
    assert seen.requests[1]["headers"]["Authorization"] == f"Bearer {SECRET}"


def test_redirect_loop_is_bounded(local: None) -> None:
    with serve(lambda method, path: (302, {"Location": path}, None)) as (base, seen):
        provider = HyperstackProvider({"api_key": SECRET}, base_url=base)
        with make_client() as client, pytest.raises(ProviderResponseError) as info:
            provider.fetch(client)
    assert "more than 5 redirects" in str(info.value)
    assert len(seen.requests) <= 2 * 6  # flavors and pricebook, each 1 + 5 hops
