"""The hosted API from Python, through `Broker` (``broker.account``, ``broker.admin``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import respx

from gpubroker import Broker
from gpubroker.api.models import Dashboard, Subscription
from gpubroker.errors import (
    KeyringUnavailableError,
    MissingCredentialsError,
    NotFoundError,
    RefusedError,
    UsageError,
)
from gpubroker.identity import InvalidIdentityError
from tests.api.contract_server import ADMIN_EMAIL, ADMIN_PASSWORD, ContractServer


@pytest.fixture
def broker(api_server: ContractServer, hermetic_env: Path) -> Broker:
    return Broker(overrides={"api_url": api_server.url})


def test_subscribe_pay_activate_and_watch_from_python(
    broker: Broker, api_server: ContractServer
) -> None:
    account = broker.account
    draft = account.subscribe(
        plan="corp", email="ana@example.com", country="EC", tax_id="1713488185001"
    )
    assert isinstance(draft, Subscription) and draft.status == "pending_payment"
    order = account.pay_paypal()
    assert order.amount_usd == 99.0 and order.next_step.endswith(order.order_id)
    api_server.approve(order.order_id)
    sub = account.capture(order.order_id)
    assert sub.subscription_id and sub.api_key_source == "keyring"
    assert account.activate().status == "provisioning"
    seen: list[str | None] = []
    final = account.watch(
        interval_s=0.01, timeout_s=10, on_update=lambda s, e: seen.append(s and s.status)
    )
    assert final.status == "running" and seen[-1] == "running" and "provisioning" in seen
    assert [s.status for s in account.subscriptions()] == ["running"]
    broker.close()


def test_login_then_operator_views(broker: Broker, api_server: ContractServer) -> None:
    status = broker.account.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    assert (status.email, status.role, status.source, status.expired) == (
        ADMIN_EMAIL,
        "admin",
        "keyring",
        False,
    )
    api_server.add_subscription(email="bo@example.com", amount_usd=40.0, status="running")
    board = broker.admin.dashboard()
    assert isinstance(board, Dashboard) and board.pods.total == 1
    assert broker.admin.pods()[0].email == "bo@example.com"
    assert broker.admin.costs().active_pods == 1
    with pytest.raises(RefusedError):
        broker.admin.set_mode("live")  # no confirm: refused before any request
    assert broker.admin.set_mode("live", confirm=True).new_mode == "live"
    broker.admin.agent.start("pod-x", 25)
    assert broker.admin.agent.status("pod-x").budget_limit_usd == 25.0
    assert [d.decision_id for d in broker.admin.agent.decisions("pod-x")] == ["dec-1"]


def test_library_errors_speak_of_parameters(broker: Broker) -> None:
    with pytest.raises(UsageError) as bad_plan:
        broker.account.subscribe(plan="gold", email="a@b.co", country="US")
    assert bad_plan.value.param == "plan"
    with pytest.raises(UsageError) as bad_email:
        broker.account.subscribe(plan="pro", email="nope", country="US")
    assert bad_email.value.param == "email"
    with pytest.raises(UsageError) as no_tax_id:
        broker.account.subscribe(plan="pro", email="a@b.co", country="EC")
    assert no_tax_id.value.param == "tax_id"
    with pytest.raises(InvalidIdentityError):
        broker.account.subscribe(plan="pro", email="a@b.co", country="ec", tax_id="1713488184")
    with pytest.raises(UsageError) as bad_country:
        broker.account.subscribe(plan="pro", email="a@b.co", country="Ecuador")
    assert bad_country.value.param == "country"
    for bad in (float("nan"), float("inf"), 0.0, -5.0):
        with pytest.raises(UsageError):
            broker.admin.agent.budget("pod-1", bad)
    with pytest.raises(MissingCredentialsError):
        broker.admin.pods()
    with pytest.raises(NotFoundError):
        broker.account.subscription()


def test_trial_needs_somewhere_to_keep_its_key_before_any_request(
    broker: Broker, api_server: ContractServer
) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    with pytest.raises(KeyringUnavailableError):
        broker.account.subscribe(plan="trial", email="a@b.co", country="US")
    assert api_server.requests == []
    sub = broker.account.subscribe(
        plan="trial", email="a@b.co", country="US", insecure_storage=True
    )
    assert sub.api_key_source == "file"


def test_costs_an_older_backend_leaves_out_are_computed_with_the_formula(
    hermetic_env: Path, http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUBROKER_TOKEN", "a-token")
    http_mock.get("https://gpubroker.site/api/v2/admin/costs").respond(
        200, json={"success": True, "active_pods": 3, "total_revenue": 40}
    )
    costs = Broker().admin.costs()
    assert costs.per_pod_estimate.monthly_cost_usd == 8.89
    assert costs.profitability.aws_costs_usd == 26.66
    assert costs.profitability.profit_usd == pytest.approx(40 - 36.66)
