"""Fan-out benchmark: a fresh search across all HTTP providers vs the slowest one alone.

Every HTTP provider (vastai, runpod, lambda, azure, verda) is pointed with
``GPUBROKER_<NAME>_URL`` at one local server that answers each route with the payloads of
``tests/fixtures/<provider>/`` after sleeping ``--delay`` seconds. AWS is left out: it talks
to AWS through boto3 (EC2 query/XML and Price List JSON protocols), not through these URLs.

Goal: all together < 2x the slowest provider alone. Exits 1 when that fails or when any
provider does not answer OK.

    python bench/fanout.py [--delay 0.3] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
# provider -> the path its default base URL carries (appended to the local server's prefix)
BASE_PATHS = {"vastai": "", "runpod": "", "lambda": "/api/v1", "azure": "", "verda": "/v1"}
PROVIDERS = list(BASE_PATHS)
RATIO_GOAL = 2.0


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def make_server(delay: float) -> ThreadingHTTPServer:
    """A threaded server answering every provider route with fixtures after ``delay`` s."""
    payloads: dict[str, Any] = {
        name: fixture(name)
        for name in (
            "vastai/bundles_ondemand.json", "vastai/bundles_bid.json",
            "runpod/gpu_types_secure.json", "runpod/gpu_types_community.json",
            "lambda/instance_types.json", "azure/azure.json", "azure/azure_last_page.json",
            "verda/token.json", "verda/instance_types.json", "verda/availability.json",
            "verda/spot_availability.json", "verda/locations.json",
        )
    }  # fmt: skip

    def route(method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        if (method, path) == ("POST", "/vastai/api/v0/bundles/"):
            kind = "bid" if body.get("type") == "bid" else "ondemand"
            return payloads[f"vastai/bundles_{kind}.json"]
        if (method, path) == ("POST", "/runpod/graphql"):
            secure = body["variables"]["lowestPriceInput"]["secureCloud"]
            return payloads[f"runpod/gpu_types_{'secure' if secure else 'community'}.json"]
        if (method, path) == ("GET", "/lambda/api/v1/instance-types"):
            return payloads["lambda/instance_types.json"]
        if (method, path) == ("GET", "/azure/api/retail/prices"):
            if "$skip" in query:
                return payloads["azure/azure_last_page.json"]
            first = dict(payloads["azure/azure.json"])
            first["NextPageLink"] = f"{server.base}/azure/api/retail/prices?$skip=1000"
            return first
        if (method, path) == ("POST", "/verda/v1/oauth2/token"):
            return payloads["verda/token.json"]
        if method == "GET" and path == "/verda/v1/instance-availability":
            spot = query.get("is_spot") == ["true"]
            return payloads[f"verda/{'spot_' if spot else ''}availability.json"]
        if method == "GET" and path in ("/verda/v1/instance-types", "/verda/v1/locations"):
            return payloads[f"verda/{path.rsplit('/', 1)[1].replace('-', '_')}.json"]
        return None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real APIs

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            body = json.loads(raw) if raw else {}
            payload = route(self.command, url.path, parse_qs(url.query), body)
            time.sleep(delay)
            data = json.dumps(payload if payload is not None else {"error": "no route"}).encode()
            self.send_response(200 if payload is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64
        base = ""

    server = Server(("127.0.0.1", 0), Handler)
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def configure_env(base: str) -> None:
    """Point providers at ``base``; dummy keys; no keyring, proxy, colour or user state."""
    for name, suffix in BASE_PATHS.items():
        os.environ[f"GPUBROKER_{name.upper()}_URL"] = f"{base}/{name}{suffix}"
    for var in ("LAMBDA_API_KEY", "VERDA_CLIENT_ID", "VERDA_CLIENT_SECRET", "VAST_API_KEY",
                "RUNPOD_API_KEY"):  # fmt: skip
        os.environ[var] = "bench"
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
    if bad:
        raise RuntimeError("provider did not answer OK: " + "; ".join(bad))
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.3, help="server latency per request (s)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement")
    args = parser.parse_args()

    server = make_server(args.delay)
    configure_env(server.base)
    try:
        timed_search(PROVIDERS, args.delay)  # warm-up: imports, catalog, first connections
        alone: dict[str, list[float]] = {p: [] for p in PROVIDERS}
        together: list[float] = []
        for _ in range(args.runs):  # interleaved, so drift hits every column alike
            for name in PROVIDERS:
                alone[name].append(timed_search([name], args.delay))
            together.append(timed_search(PROVIDERS, args.delay))
    except RuntimeError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    finally:
        server.shutdown()

    ms = {name: statistics.median(times) * 1000 for name, times in alone.items()}
    all_ms = statistics.median(together) * 1000
    slowest = max(ms, key=ms.__getitem__)
    ratio = all_ms / ms[slowest]
    print(f"fan-out benchmark: delay {args.delay * 1000:.0f} ms per request, "
          f"{args.runs} runs, medians (aws excluded: boto3, not an HTTP URL override)")  # fmt: skip
    print(f"{'provider':<10}{'alone (ms)':>12}")
    for name in PROVIDERS:
        print(f"{name:<10}{ms[name]:>12.0f}")
    print(f"{'ALL':<10}{all_ms:>12.0f}   together ({', '.join(PROVIDERS)})")
    print(f"slowest alone:   {slowest} {ms[slowest]:.0f} ms")
    print(f"sequential sum:  {sum(ms.values()):.0f} ms (for contrast)")
    print(f"ratio together/slowest: {ratio:.2f} (goal < {RATIO_GOAL:.1f})")
    passed = ratio < RATIO_GOAL
    print(f"{'PASS' if passed else 'FAIL'}: together/slowest = {ratio:.2f}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
