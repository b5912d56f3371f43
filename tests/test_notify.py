"""`watch` alerts through AWS SES and SNS, against moto on loopback."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime

import boto3
import pytest

from gpubroker import notify
from gpubroker.errors import UsageError
from gpubroker.models import Offer
from gpubroker.providers.base import make_offer

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def offer(price: float = 2.1) -> Offer:
    built = make_offer(
        provider="vastai",
        native_id="123:ondemand",
        gpu_name_raw="H100 SXM",
        gpu_count=2,
        price_per_hour_usd=price,
        observed_at=NOW,
        gpu_memory_gib=80,
        region="Texas, US",
    )
    assert built is not None
    return built


def test_summary_names_the_best_offer() -> None:
    subject, body = notify.summary([offer(), offer(3.0)])
    assert subject == "gpubroker: 2 offer(s) match; best 2x H100-SXM at $2.10/h on vastai"
    assert body.splitlines()[0] == (
        "- vastai:123:ondemand: 2x H100-SXM, $2.100/h ($1.050/GPU-h), Texas, US"
    )


@pytest.mark.parametrize("number", ["593991234567", "+0123", "+1 555 0100", "tel:+15550100"])
def test_bad_phone_numbers(number: str) -> None:
    with pytest.raises(UsageError) as info:
        notify.check_phone_number(number)
    assert info.value.exit_code == 2


def test_no_channel_sends_nothing() -> None:
    def explode(service: str) -> object:
        raise AssertionError("no client should be built")

    assert notify.alert([offer()], client_factory=explode) == []


def test_email_needs_sender() -> None:
    with pytest.raises(UsageError):
        notify.alert([offer()], email="ops@example.com")


def test_ses_and_sns_alerts_reach_aws(moto_env: str) -> None:
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="alerts@example.com")
    ids = notify.alert(
        [offer()], email="ops@example.com", sender="alerts@example.com", sms="+593991234567"
    )
    assert len(ids) == 2
    assert ses.get_send_quota()["SentLast24Hours"] == 1.0
    with urllib.request.urlopen(f"{moto_env}/moto-api/data.json") as resp:
        sms = json.load(resp)["sns"]["SMS"]
    assert [(m["phone_number"], m["message_id"]) for m in sms] == [("+593991234567", ids[1])]
    assert sms[0]["message"].startswith("gpubroker: 1 offer(s) match; best 2x H100-SXM")


def test_unverified_sender_is_an_aws_error(moto_env: str) -> None:
    from gpubroker.errors import RemoteError

    with pytest.raises(RemoteError) as info:
        notify.alert([offer()], email="ops@example.com", sender="nobody@example.com")
    assert info.value.exit_code == 5
    assert "MessageRejected" in str(info.value)
