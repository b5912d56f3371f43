"""Fan-out benchmark: a fresh search across all HTTP providers vs the slowest one alone.

Every registered provider except those in ``EXCLUDED`` is benchmarked: the list comes from
``gpubroker.providers.PROVIDERS``, and each one must have a route handler in ``ROUTES``
(else the script exits 1 before measuring anything). Each provider is pointed with
``GPUBROKER_<NAME>_URL`` at one local server that answers its routes with the payloads of
``tests/fixtures/<provider>/`` after sleeping ``--delay`` seconds; its credentials are dummy
values in the environment variables its ``CredentialSpec`` names. AWS is left out: it talks
to AWS through boto3 (EC2 query/XML and Price List JSON protocols), not through these URLs.

Goal: all together < 2x the slowest provider alone. Exits 1 when that fails or when any
provider does not answer OK with offers.

    python bench/fanout.py [--delay 0.3] [--runs 5]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
RATIO_GOAL = 2.0
DUMMY_SECRET = "bench"
# Registered providers deliberately not benchmarked -> why. Everything else needs a handler.
EXCLUDED = {"aws": "boto3, not an HTTP URL override"}


@functools.cache
def fixture(name: str) -> Any:
    """A fixture payload, parsed once (handlers must not mutate it)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Request:
    """One request to a provider, as its handler sees it."""

    method: str
    path: str  # below the provider's base URL (``/instance-types``, not ``/api/v1/...``)
    query: dict[str, list[str]]
    headers: Message
    body: Any
    base: str  # the provider's base URL on this server (for next-page links)


class Unauthorized(Exception):
    """A route that needs a credential was called without it (answered with 401)."""


def require(req: Request, header: str, value: str) -> None:
    if req.headers.get(header) != value:
        raise Unauthorized(f"{header} header missing or wrong")


Handler = Callable[[Request], Any]
ROUTES: dict[str, Handler] = {}  # provider name -> handler; returns None for "no route" (404)


def handles(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[name] = handler
        return handler

    return register


@handles("vastai")
def _vastai(req: Request) -> Any:
    if (req.method, req.path) == ("POST", "/api/v0/bundles/"):
        kind = "bid" if req.body.get("type") == "bid" else "ondemand"
        return fixture(f"vastai/bundles_{kind}.json")
    return None


@handles("runpod")
def _runpod(req: Request) -> Any:
    if (req.method, req.path) == ("POST", "/graphql"):
        secure = req.body["variables"]["lowestPriceInput"]["secureCloud"]
        return fixture(f"runpod/gpu_types_{'secure' if secure else 'community'}.json")
    return None


@handles("lambda")
def _lambda(req: Request) -> Any:
    if (req.method, req.path) == ("GET", "/instance-types"):
        require(req, "Authorization", f"Bearer {DUMMY_SECRET}")
        return fixture("lambda/instance_types.json")
    return None


@handles("azure")
def _azure(req: Request) -> Any:
    if (req.method, req.path) == ("GET", "/api/retail/prices"):
        if "$skip" in req.query:
            return fixture("azure/azure_last_page.json")
        first = dict(fixture("azure/azure.json"))
        first["NextPageLink"] = f"{req.base}/api/retail/prices?$skip=1000"
        return first
    return None


@handles("verda")
def _verda(req: Request) -> Any:
    if (req.method, req.path) == ("POST", "/oauth2/token"):
        return fixture("verda/token.json")
    if req.method != "GET":
        return None
    require(req, "Authorization", f"Bearer {fixture('verda/token.json')['access_token']}")
    if req.path == "/instance-availability":
        spot = req.query.get("is_spot") == ["true"]
        return fixture(f"verda/{'spot_' if spot else ''}availability.json")
    if req.path in ("/instance-types", "/locations"):
        return fixture(f"verda/{req.path[1:].replace('-', '_')}.json")
    return None


@handles("vultr")
def _vultr(req: Request) -> Any:
    # Cursor pagination, as tests/providers/test_vultr.py serves it: page 1's
    # meta.links.next is the cursor that asks for page 2 (whose next is "").
    if (req.method, req.path) == ("GET", "/plans"):
        cursor = fixture("vultr/plans_page1.json")["meta"]["links"]["next"]
        page = 2 if req.query.get("cursor") == [cursor] else 1
        return fixture(f"vultr/plans_page{page}.json")
    if (req.method, req.path) == ("GET", "/plans-metal"):
        return fixture("vultr/plans_metal.json")
    return None


@handles("hyperstack")
def _hyperstack(req: Request) -> Any:
    if req.method == "GET" and req.path in ("/core/flavors", "/pricebook"):
        require(req, "api_key", DUMMY_SECRET)  # the bare key, no "Bearer"
        return fixture(f"hyperstack/{req.path.rsplit('/', 1)[1]}.json")
    return None


@handles("tensordock")
def _tensordock(req: Request) -> Any:
    if (req.method, req.path) == ("GET", "/locations"):
        require(req, "Authorization", f"Bearer {DUMMY_SECRET}")
        return fixture("tensordock/locations.json")
    return None


@handles("gcp")
def _gcp(req: Request) -> Any:
    # Compute Engine's service id in the Cloud Billing Catalog; nextPageToken pagination,
    # as tests/providers/test_gcp.py serves it.
    if (req.method, req.path) == ("GET", "/services/6F81-5844-456A/skus"):
        require(req, "X-Goog-Api-Key", DUMMY_SECRET)
        token = fixture("gcp/skus_page1.json")["nextPageToken"]
        page = 2 if req.query.get("pageToken") == [token] else 1
        return fixture(f"gcp/skus_page{page}.json")
    return None


def bench_providers() -> dict[str, str]:
    """Benchmarked provider -> the path of its default base URL, in registry order.

    Raises:
        SystemExit: a registered provider (not in ``EXCLUDED``) has no handler in ``ROUTES``
            or no default base URL, or ``ROUTES`` serves a provider that is not registered.
    """
    from gpubroker.providers import PROVIDERS

    problems: list[str] = []
    unhandled = [n for n in PROVIDERS if n not in EXCLUDED and n not in ROUTES]
    if unhandled:
        problems.append(
            f"registered HTTP provider(s) without a route handler: {', '.join(unhandled)}. "
            "Add a @handles(...) function serving tests/fixtures/<provider>/ (or list the "
            "provider in EXCLUDED with the reason it cannot be served)"
        )
    if stale := sorted(set(ROUTES) - set(PROVIDERS)):
        problems.append(f"route handler(s) for unregistered provider(s): {', '.join(stale)}")
    if no_url := [n for n in ROUTES if n in PROVIDERS and not PROVIDERS[n].default_base_url]:
        problems.append(f"provider(s) without a default_base_url: {', '.join(no_url)}")
    if problems:
        raise SystemExit("ERROR: bench/fanout.py is out of date: " + "; ".join(problems))
    return {
        name: urlsplit(cls.default_base_url or "").path.rstrip("/")
        for name, cls in PROVIDERS.items()
        if name not in EXCLUDED
    }


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, base_paths: dict[str, str], delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.base_paths = base_paths
        self.delay = delay
        self.requests: Counter[str] = Counter()  # provider -> requests answered
        self.lock = threading.Lock()

    def answer(self, method: str, raw_url: str, headers: Message, raw: bytes) -> tuple[int, Any]:
        """(status, payload) for one request: ``/<provider><its base path><route>``."""
        url = urlsplit(raw_url)
        name, _, rest = url.path.lstrip("/").partition("/")
        rest = f"/{rest}"
        prefix = self.base_paths.get(name)
        if prefix is None or not (rest == prefix or rest.startswith(f"{prefix}/")):
            return 404, {"error": f"no provider route {url.path}"}
        with self.lock:
            self.requests[name] += 1
        req = Request(
            method=method,
            path=rest[len(prefix) :],
            query=parse_qs(url.query),
            headers=headers,
            body=json.loads(raw) if raw else {},
            base=f"{self.base}/{name}{prefix}",
        )
        try:
            payload = ROUTES[name](req)
        except Unauthorized as exc:
            return 401, {"error": str(exc)}
        if payload is None:
            return 404, {"error": f"no {name} route {method} {req.path}"}
        return 200, payload


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs
    server: Server

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, payload = self.server.answer(self.command, self.path, self.headers, raw)
        time.sleep(self.server.delay)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def start_server(base_paths: dict[str, str], delay: float) -> Server:
    """A threaded server answering every benchmarked provider's routes after ``delay`` s."""
    server = Server(base_paths, delay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def configure_env(base: str, base_paths: dict[str, str]) -> None:
    """Point providers at ``base``; dummy keys; no keyring, proxy, colour or user state."""
    from gpubroker.providers import PROVIDERS

    for name, path in base_paths.items():
        os.environ[f"GPUBROKER_{name.upper()}_URL"] = f"{base}/{name}{path}"
        for spec in PROVIDERS[name].credentials:  # e.g. HYPERSTACK_API_KEY, GCP_API_KEY
            os.environ[spec.env_var] = DUMMY_SECRET
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"]))
    os.environ["NO_COLOR"] = "1"


def timed_search(providers: list[str], delay: float) -> float:
    """Wall seconds of one fresh search in a brand-new temp home; raises unless all OK."""
    from gpubroker import Broker, Query
    from gpubroker.settings import Settings

    timeout = max(10.0, delay * 20)
    settings = Settings(cache_ttl_s=0, provider_timeout_s=timeout, deadline_s=timeout * 2)
    with tempfile.TemporaryDirectory(prefix="gpubroker-bench-") as home:
        os.environ["GPUBROKER_HOME"] = home
        t0 = time.perf_counter()
        with Broker(home=home, settings=settings) as broker:
            result = broker.search(Query(providers=providers), fresh=True)
        elapsed = time.perf_counter() - t0
    bad = [f"{s.provider}: {s.status.value} {s.message or ''}" for s in result.statuses
           if s.status.value != "ok" or not s.count]  # fmt: skip
    answered = {s.provider for s in result.statuses}
    bad += [f"{name}: no status" for name in providers if name not in answered]
    if bad:
        raise RuntimeError("provider did not answer OK: " + "; ".join(bad))
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.3, help="server latency per request (s)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement")
    args = parser.parse_args()

    base_paths = bench_providers()  # exits 1 when a registered provider has no handler
    providers = list(base_paths)
    server = start_server(base_paths, args.delay)
    configure_env(server.base, base_paths)
    requests: dict[str, int] = {}
    try:
        timed_search(providers, args.delay)  # warm-up: imports, catalog, first connections
        alone: dict[str, list[float]] = {p: [] for p in providers}
        together: list[float] = []
        for _ in range(args.runs):  # interleaved, so drift hits every column alike
            for name in providers:
                before = server.requests[name]
                alone[name].append(timed_search([name], args.delay))
                requests[name] = server.requests[name] - before
            together.append(timed_search(providers, args.delay))
    except RuntimeError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    finally:
        server.shutdown()

    ms = {name: statistics.median(times) * 1000 for name, times in alone.items()}
    all_ms = statistics.median(together) * 1000
    slowest = max(ms, key=ms.__getitem__)
    ratio = all_ms / ms[slowest]
    excluded = "; ".join(f"{name} excluded: {why}" for name, why in EXCLUDED.items())
    print(f"fan-out benchmark: delay {args.delay * 1000:.0f} ms per request, "
          f"{args.runs} runs, medians ({excluded})")  # fmt: skip
    print(f"{'provider':<12}{'requests':>9}{'alone (ms)':>12}")
    for name in providers:
        print(f"{name:<12}{requests[name]:>9}{ms[name]:>12.0f}")
    print(f"{'ALL':<12}{sum(requests.values()):>9}{all_ms:>12.0f}   "
          f"together ({len(providers)}: {', '.join(providers)})")  # fmt: skip
    print(f"slowest alone:   {slowest} {ms[slowest]:.0f} ms")
    print(f"sequential sum:  {sum(ms.values()):.0f} ms (for contrast)")
    print(f"ratio together/slowest: {ratio:.2f} (goal < {RATIO_GOAL:.1f})")
    passed = ratio < RATIO_GOAL
    print(f"{'PASS' if passed else 'FAIL'}: together/slowest = {ratio:.2f}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
