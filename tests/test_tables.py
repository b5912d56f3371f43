"""Terminal tables at 80 and 160 columns: key columns whole, the rest dropped or shortened."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from gpubroker import render
from gpubroker.broker import Broker
from gpubroker.settings import OutputFormat

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def lines_of(out: Terminal) -> list[str]:
    return re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue()).splitlines()


def header(out: Terminal) -> list[str]:
    return [cell.strip() for cell in lines_of(out)[0].split("┃")]


@pytest.fixture(params=[80, 160])
def width(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("COLUMNS", str(request.param))
    return int(request.param)


@pytest.fixture
def broker() -> Broker:
    return Broker()


def fits(out: Terminal, width: int) -> None:
    assert all(len(line) <= width for line in lines_of(out)), "\n".join(lines_of(out))
    assert "…" not in lines_of(out)[0] or width < 80


def test_offers_keep_rank_gpu_count_and_price(broker: Broker, width: int) -> None:
    offers = broker.search(offline=True, limit=15, hours=720, explain=True).offers
    out = Terminal()
    render.render_offers(offers, OutputFormat.TABLE, out=out, hours=720, explain=True)
    fits(out, width)
    cols = header(out)
    for key in ("#", "gpu", "n", "$/h"):
        assert key in cols
    assert any(c.startswith("+") for c in cols)  # the explained criteria stay
    body = lines_of(out)[2:]
    assert all("…" not in row.split("┃")[0] for row in body)
    models = {o.gpu_model for o in offers}
    assert all(any(m in row for m in models) for row in body)  # names never cut


def test_providers_keep_the_provider_and_status(broker: Broker, width: int) -> None:
    rows = broker.provider_info()
    rows[0]["last_fetch_at"] = (NOW - timedelta(minutes=5)).isoformat()
    out = Terminal()
    render.render_providers(rows, OutputFormat.TABLE, now=NOW, out=out)
    fits(out, width)
    assert header(out)[0] == "provider"
    assert "status" in header(out)
    names = [line.split("│")[0].strip() for line in lines_of(out)[2:]]
    assert names == [r["provider"] for r in rows]
    if width >= 160:
        assert "5m ago" in out.getvalue()


def test_gpus_never_cut_numbers(broker: Broker, width: int) -> None:
    rows = broker.gpus.list()
    out = Terminal()
    render.write_data(
        rows, OutputFormat.TABLE, out=out,
        columns=["name", "display_name", "vendor", "architecture", "memory_gib",
                 "bandwidth_gbps", "bf16_tflops"],
        droppable=render.GPU_DROPPABLE, keep=["name"],
    )  # fmt: skip
    fits(out, width)
    text = "\n".join(lines_of(out))
    assert "1…" not in text and "…" not in "".join(line.split("│")[0] for line in lines_of(out))


def test_group_by_keeps_group_count_and_scores_whole(broker: Broker, width: int) -> None:
    result = broker.search(offline=True, limit=0)
    rows = broker.offers.group(result.offers, "gpu")
    out = Terminal()
    render.render_groups(rows, OutputFormat.TABLE, "gpu", out=out)
    fits(out, width)
    cols = header(out)
    assert cols[:3] == ["gpu", "offers", "min $/gpu-h"]
    if "score" in cols:
        at = cols.index("score")
        scores = [line.split("│")[at].strip() for line in lines_of(out)[2:]]
        assert all(len(s) == 6 and "…" not in s for s in scores)
