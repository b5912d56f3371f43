"""Two real `gpubroker offers refresh` processes at once: no lost rows, no "database is locked"."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "vastai"
ROUNDS = 8


class VastHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = "bundles_bid.json" if body.get("type") == "bid" else "bundles_ondemand.json"
        payload = (FIXTURES / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def vast_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), VastHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_two_cli_processes_refreshing_at_once(vast_server: str, hermetic_env: Path) -> None:
    env = {
        **os.environ,
        "GPUBROKER_VASTAI_URL": vast_server,
        "NO_PROXY": "127.0.0.1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    loop = (
        "import sys\n"
        "from gpubroker.cli import main\n"
        f"for _ in range({ROUNDS}):\n"
        "    try:\n"
        "        main(['offers', 'refresh', '--provider', 'vastai', '--json'])\n"
        "    except SystemExit as exc:\n"
        "        if exc.code not in (0, None):\n"
        "            raise\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", loop],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert "locked" not in err.lower()
    db = sqlite3.connect(hermetic_env / "gpubroker.db")
    fetches = db.execute("select count(*), sum(status = 'ok') from fetches").fetchone()
    assert fetches == (2 * ROUNDS, 2 * ROUNDS)
    groups = db.execute("select count(distinct gpu_model || spot) from price_history").fetchone()[0]
    history = db.execute("select count(*) from price_history").fetchone()[0]
    assert history == 2 * ROUNDS * groups
    cached = db.execute("select count(*) from offers where provider = 'vastai'").fetchone()[0]
    single = json.loads(results[0][0].split("\n]\n")[0] + "\n]")[0]["count"]
    assert cached == single > 0
