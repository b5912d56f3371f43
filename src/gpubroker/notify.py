"""Alerts for `watch`: e-mail through AWS SES, SMS through AWS SNS (as the hosted system does).

Both use the standard AWS credential chain; boto3 is imported only when an alert is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from gpubroker.errors import UsageError
from gpubroker.models import Offer
from gpubroker.remote import translate_errors

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
ClientFactory = Callable[[str], Any]


def check_phone_number(number: str) -> None:
    """Raise UsageError unless the number is in E.164 form (+ and 7–15 digits)."""
    if not E164.match(number):
        raise UsageError(
            f"notify_sms needs an E.164 number like +593991234567, got {number!r}",
            param="notify_sms",
        )


def summary(offers: Sequence[Offer], limit: int = 5) -> tuple[str, str]:
    """(subject, body) describing the matching offers."""
    best = offers[0]
    subject = (
        f"gpubroker: {len(offers)} offer(s) match; best {best.gpu_count}x {best.gpu_model} "
        f"at ${best.price_per_hour_usd:.2f}/h on {best.provider}"
    )
    lines = [
        f"- {o.id}: {o.gpu_count}x {o.gpu_model}, ${o.price_per_hour_usd:.3f}/h"
        f" (${o.price_per_gpu_hour_usd:.3f}/GPU-h), {o.region or 'any region'}"
        for o in offers[:limit]
    ]
    return subject, "\n".join(lines)


def _default_client(service: str) -> Any:
    import boto3

    client: Any = boto3.client(service)  # type: ignore[call-overload]
    return client


def alert(
    offers: Sequence[Offer],
    *,
    email: str | None = None,
    sender: str | None = None,
    sms: str | None = None,
    client_factory: ClientFactory | None = None,
) -> list[str]:
    """Send one alert per channel for this match; returns the message ids.

    Raises:
        UsageError: e-mail without a sender, or a malformed phone number.
        UnavailableError / CredentialsError: AWS refused or could not be reached.
    """
    if not offers or not (email or sms):
        return []
    make = client_factory or _default_client
    subject, body = summary(offers)
    ids: list[str] = []
    if email:
        if not sender:
            raise UsageError("an SES e-mail alert needs a verified sender address")
        with translate_errors("ses"):
            resp = make("ses").send_email(
                Source=sender,
                Destination={"ToAddresses": [email]},
                Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": body}}},
            )
        ids.append(resp["MessageId"])
    if sms:
        check_phone_number(sms)
        with translate_errors("sns"):
            resp = make("sns").publish(PhoneNumber=sms, Message=f"{subject}\n{body}"[:1400])
        ids.append(resp["MessageId"])
    return ids
