"""A whole enrollment through the CLI against the contract server on 127.0.0.1:
plans → geo → subscribe → pay → activate → status until running."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.api.conftest import invoke
from tests.api.contract_server import ContractServer

VALID_RUC = "1790869571001"  # admin-api.md §6.1: passes mod-11 (third digit 9)
INVALID_RUC = "2499999999999"  # accepted by the backend (§6.1), refused here


def test_enrollment_end_to_end(
    api_server: ContractServer, hermetic_env: Path, memory_keyring: object
) -> None:
    api_server.state.seeded_plans = True
    code, out, err = invoke("plans", "--json")
    assert code == 0, err
    plans = json.loads(out)
    assert [p["plan"] for p in plans] == ["trial", "basic", "pro", "corp", "enterprise"]
    assert {p["source"] for p in plans} == {"api"}

    code, out, _ = invoke("geo", "--json")
    assert code == 0
    geo = json.loads(out)
    assert geo["country_code"] == "EC" and geo["requires_tax_id"] is True

    # An invalid RUC is refused before any request reaches the server.
    before = len(api_server.requests)
    code, _, err = invoke(
        "subscribe", "--plan", "pro", "--email", "ana@example.com", "--country", "EC",
        "--tax-id", INVALID_RUC,
    )  # fmt: skip
    assert code == 6
    assert "invalid RUC 2499999999999: check digit 9 does not match (expected 5)" in err
    assert len(api_server.requests) == before
    # So is a missing one (exit 2), also before any request.
    code, _, err = invoke(
        "subscribe", "--plan", "pro", "--email", "ana@example.com", "--country", "EC"
    )
    assert code == 2 and "--tax-id is required for subscriptions from EC" in err
    assert len(api_server.requests) == before

    code, out, err = invoke(
        "subscribe", "--plan", "pro", "--email", "ana@example.com", "--name", "Ana",
        "--country", "EC", "--tax-id", "179086957-1001", "--json",
    )  # fmt: skip
    assert code == 0, err
    draft = json.loads(out)
    assert draft["status"] == "pending_payment" and draft["subscription_id"] is None
    assert draft["tax_id"] == VALID_RUC and draft["next_step"] == "gpubroker pay paypal"
    assert "next: gpubroker pay paypal" in err

    code, out, err = invoke("pay", "paypal", "--json")
    assert code == 0, err
    order = json.loads(out)
    assert order["amount_usd"] == 40.0 and order["approval_url"].startswith("https://")
    order_id = order["order_id"]
    assert api_server.state.orders[order_id]["ruc"] == VALID_RUC

    # Capturing before the buyer approved is refused with the server's own words.
    code, _, err = invoke("pay", "capture", order_id)
    assert code == 6
    assert "La orden no fue aprobada por el comprador" in err
    api_server.approve(order_id)

    code, out, err = invoke("pay", "capture", order_id, "--json")
    assert code == 0, err
    sub = json.loads(out)
    assert sub["subscription_id"].startswith("sub_") and sub["status"] == "pending_activation"
    assert sub["api_key_source"] == "keyring" and sub["amount_usd"] == 40.0
    server_row = api_server.state.subscriptions[sub["subscription_id"]]
    assert server_row["order_id"] == order_id and server_row["ruc"] == VALID_RUC
    assert server_row["payment_provider"] == "paypal" and server_row["amount_usd"] == 40.0
    key = server_row["api_key"]
    assert key not in out + err

    code, out, err = invoke("activate", "--json")  # the key stored by capture
    assert code == 0, err
    assert json.loads(out)["status"] == "provisioning"

    code, out, err = invoke("status", "--watch", "--interval", "0.01", "--timeout", "10", "--json")
    assert code == 0, err
    final = json.loads(out)
    assert final["status"] == "running" and final["progress_percent"] == 100
    assert final["pod_id"] == server_row["pod_id"] and final["tokens_remaining"] == 10000

    # The local record: one row, the server's id, nothing secret.
    db = sqlite3.connect(hermetic_env / "gpubroker.db")
    rows = db.execute("select subscription_id, status, order_id from subscriptions").fetchall()
    assert rows == [(sub["subscription_id"], "running", order_id)]
    assert key.encode() not in (hermetic_env / "gpubroker.db").read_bytes()


def test_trial_is_created_at_once_and_geo_detection_decides_the_country(
    api_server: ContractServer,
) -> None:
    api_server.detected_country = "US"
    code, out, err = invoke("subscribe", "--plan", "trial", "--email", "bo@example.com", "--json")
    assert code == 0, err
    sub = json.loads(out)
    assert sub["status"] == "pending_activation" and sub["country"] == "US"
    assert [p for p in api_server.api_paths() if "subscription/create" in p]
    api_server.detected_country = "EC"
    code, _, err = invoke("subscribe", "--plan", "trial", "--email", "bo@example.com")
    assert code == 2 and "--tax-id is required for subscriptions from EC" in err


def test_capture_is_resumable_without_paying_twice(api_server: ContractServer) -> None:
    invoke("subscribe", "--plan", "basic", "--email", "cy@example.com", "--country", "US")
    code, out, _ = invoke("pay", "paypal", "--json")
    order_id = json.loads(out)["order_id"]
    api_server.approve(order_id)
    # The capture succeeds, then creating the subscription fails (the server breaks).
    handler = api_server.httpd.RequestHandlerClass
    real_create = handler._create  # type: ignore[attr-defined]
    handler._create = lambda self, body: self._traceback(  # type: ignore[attr-defined]
        "OperationalError: database is locked"
    )
    try:
        code, _, err = invoke("pay", "capture", order_id)
    finally:
        handler._create = real_create  # type: ignore[attr-defined]
    assert code == 5 and "OperationalError: database is locked" in err

    def captures() -> int:
        return len([p for p in api_server.api_paths() if "/capture/" in p])

    assert captures() == 1
    code, out, err = invoke("pay", "capture", order_id, "--json")
    assert code == 0, err
    assert captures() == 1  # the payment is not captured again
    assert json.loads(out)["subscription_id"].startswith("sub_")
    assert len(api_server.state.subscriptions) == 1
    # A third run says it is done and changes nothing.
    code, out, err = invoke("pay", "capture", order_id, "--json")
    assert code == 0 and "already captured" in err
    assert len(api_server.state.subscriptions) == 1 and captures() == 1


def test_watch_survives_the_500_while_provisioning(api_server: ContractServer) -> None:
    api_server.defects.add("status_500")
    invoke("subscribe", "--plan", "trial", "--email", "di@example.com", "--country", "US")
    assert invoke("activate")[0] == 0
    code, _, err = invoke("status")  # one poll: the server's 500 is exit 5
    assert code == 5 and "ModuleNotFoundError" in err
    code, out, err = invoke("status", "--watch", "--interval", "0.01", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "running"


def test_watch_times_out_with_exit_5(api_server: ContractServer) -> None:
    api_server.provisioning_polls = 10_000
    invoke("subscribe", "--plan", "trial", "--email", "ed@example.com", "--country", "US")
    invoke("activate")
    code, _, err = invoke("status", "--watch", "--interval", "0.01", "--timeout", "0.05")
    assert code == 5
    assert "not running after 0.05s (last status provisioning (50%))" in err


def test_activation_defect_keeps_the_key_and_says_what_to_do(
    api_server: ContractServer, memory_keyring: object
) -> None:
    api_server.defects.add("activate_500")
    row = api_server.add_subscription(email="fe@example.com")
    code, _, err = invoke("activate", "--api-key-stdin", input=row["api_key"] + "\n")
    assert code == 5
    assert "ModuleNotFoundError" in err and "the API key is kept" in err
    assert row["api_key"] not in err
    store = memory_keyring.store  # type: ignore[attr-defined]
    assert store[("gpubroker", "api.default.api_key")] == row["api_key"]


def test_activation_of_an_unknown_key_is_exit_4_and_nothing_is_stored(
    api_server: ContractServer, memory_keyring: object
) -> None:
    code, _, err = invoke("activate", "--api-key", "gpuk_" + "0" * 32)
    assert code == 4 and "API Key inválida o expirada" in err
    assert "gpuk_" + "0" * 32 not in err
    assert not memory_keyring.store  # type: ignore[attr-defined]


def test_activating_twice_reports_the_status(api_server: ContractServer) -> None:
    invoke("subscribe", "--plan", "trial", "--email", "gi@example.com", "--country", "US")
    assert invoke("activate")[0] == 0
    code, out, err = invoke("activate", "--json")
    assert code == 0, err
    assert "already activated" in err and json.loads(out)["status"] == "provisioning"


def test_status_without_a_key_shows_the_local_draft(api_server: ContractServer) -> None:
    code, _, err = invoke("status")
    assert code == 3 and "no subscription in this profile yet" in err
    invoke("subscribe", "--plan", "pro", "--email", "ha@example.com", "--country", "US")
    code, out, err = invoke("status", "--json")
    assert code == 0 and json.loads(out)["status"] == "pending_payment"
    assert "no API key here" in err
    code, _, err = invoke("status", "--watch")
    assert code == 4 and "no subscription API key" in err


def test_pay_without_a_draft_is_exit_3(api_server: ContractServer) -> None:
    code, _, err = invoke("pay", "paypal")
    assert code == 3 and "nothing to pay" in err
