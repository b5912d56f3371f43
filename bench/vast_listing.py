"""A synthetic, deterministic Vast.ai bundles listing, shaped like the real API's rows.

Every row carries the keys a real ``POST /api/v0/bundles/`` row carries (the same set as
``tests/fixtures/vastai/bundles_ondemand.json``), so parsing and memory costs are those of a
real listing. Machines are drawn from a fixed seed: the same ``size`` always gives the same
rows. The on-demand and the bid search list the same machines (as Vast does); the bid rows
carry ``is_bid: true``.

Used by ``bench/run.py`` to build its 50,000-offer cache through a real
``gpubroker offers refresh``.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SEED = 20260901

# (Vast's gpu_name, MiB as nvidia-smi reports, $/GPU-hour on demand, weight, bandwidth GB/s)
GPU_MIX: tuple[tuple[str, int, float, int, float], ...] = (
    ("RTX 4090", 24564, 0.35, 26, 1008.0),
    ("RTX 3090", 24576, 0.20, 16, 936.0),
    ("RTX 5090", 32607, 0.60, 8, 1792.0),
    ("H100 SXM", 81559, 2.10, 8, 3350.0),
    ("H100 PCIE", 81559, 1.80, 4, 2000.0),
    ("H100 NVL", 95830, 2.30, 2, 3900.0),
    ("A100 SXM4", 81920, 1.10, 5, 2039.0),
    ("A100 PCIE", 81920, 0.95, 3, 1935.0),
    ("L40S", 46068, 0.75, 4, 864.0),
    ("RTX A6000", 49140, 0.45, 6, 768.0),
    ("RTX 6000Ada", 49140, 0.80, 3, 960.0),
    ("A40", 46068, 0.40, 3, 696.0),
    ("RTX A5000", 24564, 0.22, 4, 768.0),
    ("RTX 4080", 16376, 0.18, 3, 717.0),
    ("Tesla V100", 32768, 0.25, 2, 900.0),
    ("H200", 143771, 3.20, 2, 4800.0),
    ("Q RTX 8000", 49152, 0.30, 1, 672.0),  # unknown to the registry: kept as raw name
)
COUNTS = ((1, 40), (2, 25), (4, 18), (8, 15), (3, 1), (6, 1))
PLACES = (
    "Texas, US", "California, US", "Virginia, US", "Oregon, US", "Quebec, CA", "Ontario, CA",
    "Bavaria, DE", "Hesse, DE", "North Holland, NL", "Ile-de-France, FR", "Stockholm, SE",
    "England, GB", "Tokyo, JP", "Seoul, KR", "Singapore, SG", "New South Wales, AU",
    "Sao Paulo, BR", "Maharashtra, IN", "Warsaw, PL", "Helsinki, FI", "Bucharest, RO", "",
)  # fmt: skip
CPUS = (
    ("AMD EPYC 7543 32-Core Processor", 64, 3.7),
    ("AMD EPYC 9354 32-Core Processor", 128, 3.8),
    ("Intel Xeon Platinum 8480+", 112, 3.8),
    ("AMD Ryzen 9 7950X 16-Core Processor", 32, 5.7),
    ("Intel Core i9-13900K", 32, 5.8),
)


def _weighted(rng: random.Random, table: tuple[tuple[Any, ...], ...], weight_index: int) -> Any:
    return rng.choices(table, weights=[row[weight_index] for row in table], k=1)[0]


def machines(size: int, seed: int = SEED) -> Iterator[dict[str, Any]]:
    """``size`` on-demand rows, one per rentable machine slice."""
    rng = random.Random(seed)
    for i in range(size):
        gpu_name, gpu_ram, base_price, _, gpu_bw = _weighted(rng, GPU_MIX, 3)
        num_gpus = _weighted(rng, COUNTS, 1)[0]
        cpu_name, host_cores, cpu_ghz = CPUS[rng.randrange(len(CPUS))]
        share = num_gpus / 8
        cores_effective = float(max(2, round(host_cores * share)))
        price_gpu = round(base_price * rng.uniform(0.7, 1.6), 4)
        dph_base = round(price_gpu * num_gpus, 4)
        storage_cost = round(rng.uniform(0.05, 0.3), 3)
        storage_total = round(storage_cost * 5 / 720, 6)
        reliability = round(rng.uniform(0.85, 0.9999), 4)
        offer_id = 20_000_000 + i
        geolocation = PLACES[rng.randrange(len(PLACES))]
        dlperf = round(rng.uniform(5, 60) * num_gpus, 3)
        total = dph_base + storage_total
        yield {
            "id": offer_id, "ask_contract_id": offer_id, "bundle_id": None,
            "machine_id": 30_000 + i // 3, "host_id": 70_000 + i // 9, "num_gpus": num_gpus,
            "gpu_name": gpu_name, "gpu_ram": gpu_ram, "gpu_total_ram": gpu_ram * num_gpus,
            "gpu_frac": 1.0, "gpu_arch": "nvidia", "gpu_mem_bw": gpu_bw, "gpu_lanes": 16,
            "gpu_max_power": 450.0, "gpu_max_temp": 83.0, "gpu_display_active": False,
            "compute_cap": 890, "cuda_max_good": rng.choice((12.2, 12.4, 12.6, 12.8)),
            "driver_version": "570.133.07", "driver_vers": 570133007, "bw_nvlink": 0.0,
            "cpu_name": cpu_name, "cpu_arch": "amd64", "cpu_cores": host_cores,
            "cpu_cores_effective": cores_effective, "cpu_ghz": cpu_ghz,
            "cpu_ram": rng.choice((128870, 257740, 515480, 1031000)),
            "disk_space": round(rng.uniform(50, 4000), 1), "disk_bw": 3100.0,
            "disk_name": "Samsung SSD 980 PRO 2TB", "inet_up": round(rng.uniform(50, 5000), 1),
            "inet_down": round(rng.uniform(50, 5000), 1), "inet_up_cost": 0.003,
            "inet_down_cost": 0.003, "direct_port_count": 100, "pci_gen": 4.0, "pcie_bw": 24.5,
            "mobo_name": "ROMED8-2T", "os_version": "22.04", "has_avx": 1,
            "dph_base": dph_base, "dph_total": round(total, 6),
            "min_bid": round(dph_base * rng.uniform(0.4, 0.8), 6),
            "storage_cost": storage_cost, "storage_total_cost": storage_total,
            "vram_costperhour": round(total / (gpu_ram * num_gpus / 1024), 6),
            "dlperf": dlperf, "dlperf_per_dphtotal": round(dlperf / total, 3),
            "total_flops": round(dlperf * 1.1, 1), "flops_per_dphtotal": round(dlperf / total, 3),
            "score": round(dlperf / total, 3), "credit_discount_max": 0.4, "rentable": True,
            "rented": False, "is_bid": False, "external": False, "hosting_type": 1,
            "hostname": None, "public_ipaddr": f"203.0.{i // 250 % 256}.{i % 250}",
            "static_ip": True, "geolocation": geolocation, "geolocode": None,
            "reliability": reliability, "reliability2": reliability,
            "reliability_mult": 0.99, "expected_reliability": reliability,
            "verification": "verified", "vericode": 1, "vms_enabled": False,
            "resource_type": "gpu", "start_date": 1767225600.0, "end_date": 1793491200.0,
            "duration": 26265600.0, "cluster_id": None, "platform_fee": None,
        }  # fmt: skip


class Listing:
    """The two searches of one synthetic listing, encoded once (``size`` rows each).

    Args:
        size: rows per search; ``2 * size`` offers in all (on-demand plus interruptible).
    """

    def __init__(self, size: int, seed: int = SEED) -> None:
        rows = list(machines(size, seed))
        self.size = size
        self._ondemand = rows
        self._bid = [dict(row, is_bid=True) for row in rows]
        self._cache: dict[tuple[str, int], bytes] = {}

    def body(self, search_type: str, limit: int) -> bytes:
        """The JSON body answering a search of this ``type`` with this ``limit`` (at most)."""
        key = ("bid" if search_type == "bid" else "on-demand", max(0, limit))
        if key not in self._cache:
            rows = self._bid if key[0] == "bid" else self._ondemand
            self._cache[key] = json.dumps({"offers": rows[: key[1]]}).encode()
        return self._cache[key]


class Server(ThreadingHTTPServer):
    """Serves a `Listing` as Vast's ``POST /api/v0/bundles/`` on 127.0.0.1 (random port).

    Point gpubroker at it with ``GPUBROKER_VASTAI_URL=server.base``. Each search's ``type``
    and ``limit`` are honoured as Vast does: at most ``limit`` rows, no cursor.
    """

    daemon_threads = True

    def __init__(self, listing: Listing) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.listing = listing
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.searches: list[tuple[str, int]] = []

    def start(self) -> Server:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") != "/api/v0/bundles":
            self._send(404, b'{"error": "no such route"}')
            return
        body = json.loads(raw or b"{}")
        kind, limit = str(body.get("type", "on-demand")), int(body.get("limit", 3000))
        self.server.searches.append((kind, limit))
        self._send(200, self.server.listing.body(kind, limit))

    def _send(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass
