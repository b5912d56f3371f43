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
from gpubroker.errors import ProviderHTTPError
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


class DownCloud(Provider):
    name: ClassVar[str] = "downcloud"
    label: ClassVar[str] = "Down cloud"
    calls: ClassVar[int] = 0

    def _fetch(self, session: FetchSession) -> FetchResult:
        DownCloud.calls += 1
        raise ProviderHTTPError("downcloud", 503, "downcloud: HTTP 503 Service Unavailable")


def test_exits_5_when_no_provider_could_be_checked_in_the_window(
    monkeypatch: pytest.MonkeyPatch, only_fake: list[float]
) -> None:
    # Regression: with every provider failing, watch said only "no match yet" and exited 3.
    monkeypatch.delitem(PROVIDERS, "fakecloud")
    monkeypatch.setitem(PROVIDERS, "downcloud", DownCloud)
    DownCloud.calls = 0
    clock = [1000.0]

    def sleep(seconds: float) -> None:
        only_fake.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(watch_cmd.time, "sleep", sleep)
    monkeypatch.setattr(watch_cmd.time, "monotonic", lambda: clock[0])
    result = invoke("--gpu", "h100", "--max-price", "3", "--interval", "5", "--timeout", "12")
    assert result.exit_code == 5, result.stderr
    assert DownCloud.calls == 4 and only_fake == [5, 5, 2]  # checks at 0, 5, 10 and 12 s
    # The same per-provider warning browse prints, once, not once per round.
    assert result.stderr.count("warning: downcloud: error: HTTP 503") == 1
    assert "Error: no provider could be checked within 12s" in result.stderr


def test_exits_3_when_a_provider_answered_but_nothing_matched() -> None:
    FakeCloud.rounds = [[h100(4.0, "a")]]
    result = invoke("--gpu", "h100", "--max-price", "3", "--timeout", "0")
    assert result.exit_code == 3
    assert "no offer matched within 0s" in result.stderr


def test_shares_browse_filters_and_ranking_options() -> None:
    FakeCloud.rounds = [[h100(2.9, "dear"), h100(2.2, "cheap"), h100(2.5, "mid")]]
    result = invoke("--gpu", "H100:1", "--max-price-per-gpu", "3", "--optimize", "cost", "--json")
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in json.loads(result.stdout)] == [
        "fakecloud:cheap", "fakecloud:mid", "fakecloud:dear",
    ]  # fmt: skip
    result = invoke("--max-price", "3", "--min-vcpus", "4", "--max-age", "1d", "--timeout", "0")
    assert result.exit_code == 3  # the offers carry no vCPU count: nothing matches
    for option in ("--min-ram", "--min-disk", "--weights", "--max-age", "--optimize"):
        assert option in invoke("--help").stdout


def test_needs_a_price_cap() -> None:
    result = invoke("--gpu", "h100", "--optimize", "cost")
    assert result.exit_code == 2
    assert "watch needs a price cap: --max-price or --max-price-per-gpu" in result.stderr
