"""`gpubroker watch`: exit 0 with matches, 3 at the timeout, alerts once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar
from unittest.mock import ANY

import pytest
from typer.testing import CliRunner

from gpubroker import notify
from gpubroker.cli import app
from gpubroker.commands import watch as watch_cmd
from gpubroker.models import Offer
from gpubroker.providers import PROVIDERS
from gpubroker.providers.base import FetchResult, FetchSession, Provider, make_offer

runner = CliRunner()
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def h100(price: float, native: str) -> Offer:
    built = make_offer(
        provider="fakecloud",
        native_id=native,
        gpu_name_raw="H100 SXM",
        gpu_count=1,
        price_per_hour_usd=price,
        observed_at=NOW,
        gpu_memory_gib=80,
    )
    assert built is not None
    return built


class FakeCloud(Provider):
    name: ClassVar[str] = "fakecloud"
    label: ClassVar[str] = "Fake cloud"
    rounds: ClassVar[list[list[Offer]]] = []
    calls: ClassVar[int] = 0

    def _fetch(self, session: FetchSession) -> FetchResult:
        FakeCloud.calls += 1
        return FetchResult(FakeCloud.rounds[min(FakeCloud.calls - 1, len(FakeCloud.rounds) - 1)])


@pytest.fixture(autouse=True)
def only_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    for name in list(PROVIDERS):
        monkeypatch.delitem(PROVIDERS, name)
    monkeypatch.setitem(PROVIDERS, "fakecloud", FakeCloud)
    FakeCloud.calls = 0
    sleeps: list[float] = []
    monkeypatch.setattr(watch_cmd.time, "sleep", sleeps.append)
    yield sleeps


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["watch", *args], catch_exceptions=False)


def test_exits_0_with_the_match_on_a_later_round(only_fake: list[float]) -> None:
    FakeCloud.rounds = [[h100(4.0, "a")], [h100(4.0, "a"), h100(2.2, "b")]]
    result = invoke("--gpu", "h100", "--max-price", "2.5", "--interval", "5", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["fakecloud:b"]
    assert FakeCloud.calls == 2
    assert only_fake == [5]
    assert "no match yet" in result.stderr


def test_catalog_prices_do_not_count_by_default() -> None:
    FakeCloud.rounds = [[]]
    result = invoke("--gpu", "h100", "--max-price", "100", "--timeout", "0", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout) == []
    assert "no offer matched within 0s" in result.stderr
    result = invoke("--gpu", "h100", "--max-price", "100", "--timeout", "0", "--include-catalog")
    assert result.exit_code == 0
    assert "catalog 20" in result.stdout


def test_alerts_once_on_match(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeCloud.rounds = [[h100(2.0, "a")]]
    sent: list[dict[str, Any]] = []

    def fake_alert(offers: list[Offer], **kwargs: Any) -> list[str]:
        sent.append({"ids": [o.id for o in offers], **kwargs})
        return ["m-1"]

    monkeypatch.setattr(notify, "alert", fake_alert)
    result = invoke("--gpu", "h100", "--max-price", "3", "--notify-sms", "+593991234567")
    assert result.exit_code == 0
    assert sent == [
        {
            "ids": ["fakecloud:a"],
            "email": None,
            "sender": None,
            "sms": "+593991234567",
            "client_factory": ANY,
        }
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["--notify-email", "ops@example.com"],
        ["--notify-sms", "12345"],
        ["--where", "price<<3"],
    ],
)
def test_bad_input_exits_2_before_watching(args: list[str]) -> None:
    FakeCloud.rounds = [[]]
    result = invoke("--max-price", "3", *args)
    assert result.exit_code == 2
    assert FakeCloud.calls == 0


def test_max_price_is_required() -> None:
    result = invoke("--gpu", "h100")
    assert result.exit_code == 2
    assert "--max-price" in result.stderr
