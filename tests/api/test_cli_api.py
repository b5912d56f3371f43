"""The hosted-API commands through the CLI: exit codes, JSON, confirmations, 80 columns."""

from __future__ import annotations

import io
import json
import re
import stat
from pathlib import Path

import httpx
import pytest
import respx

from gpubroker import render
from gpubroker.vocabulary import OutputFormat
from tests.api.conftest import API, invoke
from tests.api.contract_server import ADMIN_EMAIL, ADMIN_PASSWORD, ContractServer, make_token
from tests.conftest import MemoryKeyring


@pytest.fixture
def operator(api_server: ContractServer, monkeypatch: pytest.MonkeyPatch) -> ContractServer:
    """The contract server with an admin token in GPUBROKER_TOKEN and two customers."""
    monkeypatch.setenv("GPUBROKER_TOKEN", api_server.issue_token())
    api_server.add_subscription(
        email="ana@example.com", name="Ana", plan="pro", status="running", amount_usd=40.0,
        pod_id="pod-1a2b3c4d", transaction_id="8MC585209K746392H", order_id="O-1",
        ruc="1790869571001", payment_provider="paypal",
    )  # fmt: skip
    api_server.add_subscription(
        email="a-very-long-customer-address@subsidiary.example-enterprise.com",
        name="Bartholomew Longname-Fitzgerald", plan="enterprise", status="pending_activation",
        pod_id="pod-9f8e7d6c",
    )  # fmt: skip
    return api_server


def widest(text: str) -> int:
    """The widest line, in characters on screen (escape sequences do not count)."""
    visible = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return max((len(line) for line in visible.splitlines()), default=0)


# --- auth ---------------------------------------------------------------------------------------


def test_login_status_token_logout(
    api_server: ContractServer, memory_keyring: MemoryKeyring
) -> None:
    code, out, err = invoke(
        "auth", "login", "--email", ADMIN_EMAIL, "--password-stdin", "--json",
        input=ADMIN_PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, err
    status = json.loads(out)
    assert (status["email"], status["role"], status["source"]) == (ADMIN_EMAIL, "admin", "keyring")
    assert status["expired"] is False and 0 < status["expires_in_s"] <= 900
    token = memory_keyring.store[("gpubroker", "api.default.token")]
    assert token not in out + err and ADMIN_PASSWORD not in out + err
    assert f"Logged in as {ADMIN_EMAIL} (admin)" in err

    code, out, _ = invoke("auth", "status", "--verify", "--json")
    assert code == 0 and json.loads(out)["verified"] is True and token not in out
    code, out, _ = invoke("auth", "token")
    assert code == 0 and out == token + "\n"
    code, _, err = invoke("auth", "logout")
    assert code == 0 and "removed the token from keyring" in err
    code, out, err = invoke("auth", "status", "--json")
    assert code == 4 and json.loads(out)["logged_in"] is False
    assert "not logged in" in err
    assert invoke("auth", "token")[0] == 4


def test_login_defects_are_failed_logins(api_server: ContractServer) -> None:
    api_server.defects.add("login_null_token")
    code, _, err = invoke(
        "auth", "login", "--email", ADMIN_EMAIL, "--password-stdin", input=ADMIN_PASSWORD
    )
    assert code == 4 and "returned no token" in err and "--with-token" in err
    api_server.defects = {"login_500"}
    code, _, err = invoke("auth", "login", "--email", ADMIN_EMAIL, "--password-stdin", input="x")
    assert code == 4 and "wrong e-mail or password" in err
    api_server.defects = set()
    code, _, err = invoke("auth", "login", "--email", ADMIN_EMAIL, "--password-stdin", input="x")
    assert code == 4 and "Credenciales inválidas" in err


def test_login_with_a_token(api_server: ContractServer, memory_keyring: MemoryKeyring) -> None:
    token = api_server.issue_token()
    code, out, err = invoke("auth", "login", "--with-token", "--json", input=token + "\n")
    assert code == 0, err
    assert json.loads(out)["verified"] is True and token not in out + err
    assert memory_keyring.store[("gpubroker", "api.default.token")] == token
    forged = make_token(ADMIN_EMAIL)
    code, _, err = invoke("auth", "login", "--with-token", input=forged + "\n")
    assert code == 4 and "Unauthorized" in err and forged not in err
    assert memory_keyring.store[("gpubroker", "api.default.token")] == token  # kept
    code, _, err = invoke("auth", "login", "--with-token", input="not a token\n")
    assert code == 2 and "spaces" in err


def test_login_without_a_keyring_names_the_env_var_before_any_request(
    api_server: ContractServer,
) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    code, _, err = invoke(
        "auth", "login", "--email", ADMIN_EMAIL, "--password-stdin", input=ADMIN_PASSWORD
    )
    assert code == 4 and "GPUBROKER_TOKEN" in err and "--insecure-storage" in err
    assert api_server.requests == []


def test_insecure_storage_is_explicit_and_private(
    api_server: ContractServer, hermetic_env: Path
) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    code, out, err = invoke(
        "auth", "login", "--email", ADMIN_EMAIL, "--password-stdin", "--insecure-storage",
        "--json", input=ADMIN_PASSWORD,
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["source"] == "file"
    path = hermetic_env / "insecure-secrets" / "default.token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert invoke("auth", "status")[0] == 0


def test_expired_and_env_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUBROKER_TOKEN", make_token("old@x.co", exp_in_s=-60))
    code, out, err = invoke("auth", "status", "--json")
    assert code == 4 and json.loads(out)["expired"] is True and "expired at" in err
    assert json.loads(out)["source"] == "env"
    code, _, err = invoke("auth", "logout")
    assert code == 0 and "GPUBROKER_TOKEN is set" in err


def test_password_needs_a_terminal_or_stdin(api_server: ContractServer) -> None:
    code, _, err = invoke("auth", "login", "--email", ADMIN_EMAIL)
    assert code == 2 and "--password-stdin" in err
    code, _, err = invoke("auth", "login")
    assert code == 2 and "--email is required" in err


# --- plans, geo, validate ---------------------------------------------------------------------


def test_plans_fall_back_to_the_built_in_table_labelled(http_mock: respx.MockRouter) -> None:
    http_mock.get(f"{API}/billing/plans").mock(side_effect=httpx.ConnectError("down"))
    code, out, err = invoke("plans", "--json")
    assert code == 0
    rows = json.loads(out)
    assert rows[2] == {
        "plan": "pro", "display_name": "Profesional", "price_usd_month": 40.0, "tokens": 10000,
        "source": "built-in",
    }  # fmt: skip
    assert "unreachable" in err and "built-in" in err
    http_mock.get(f"{API}/billing/plans").respond(200, json={"plans": [], "default_plan": "free"})
    code, out, err = invoke("plans")
    assert code == 0 and "lists no plans" in err and "built-in" in out


def test_geo(api_server: ContractServer) -> None:
    code, out, _ = invoke("geo", "--country", "us", "--json")
    assert code == 0
    geo = json.loads(out)
    assert geo["country_code"] == "US" and geo["requires_tax_id"] is False
    assert invoke("geo", "--country", "Ecuador")[0] == 2


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["validate", "id", "1713488185"], 0, "natural person"),
        (["validate", "ruc", "1790869571001"], 0, "private company"),
        (["validate", "cedula", "17-1348818-5"], 0, "Pichincha"),
        (["validate", "ruc", "1713488185"], 6, "a RUC has 13 digits, not 10"),
        (["validate", "id", "2499999999999"], 6, "check digit 9 does not match (expected 5)"),
        (["validate", "cedula", "1763488185"], 6, "third digit 6 is not used"),
        (["validate", "ruc", "1793213150001", "--lenient"], 0, "accepted without"),
    ],
)
def test_validate(args: list[str], code: int, needle: str) -> None:
    got, out, err = invoke(*args)
    assert got == code
    assert needle in out + err


def test_validate_json_and_remote(api_server: ContractServer) -> None:
    api_server.defects.add("dict_body_422")
    code, out, err = invoke("validate", "ruc", "1790869571001", "--remote", "--json")
    assert code == 0  # the local check decides
    record = json.loads(out)
    assert record["valid"] is True and record["remote_valid"] is None
    assert "known backend defect" in record["remote_message"] and "warning:" in err
    api_server.defects = set()
    code, out, err = invoke("validate", "id", "2499999999999", "--remote", "--json")
    assert code == 6 and json.loads(out)["remote_valid"] is True
    assert "the server disagrees" in err


# --- operators ----------------------------------------------------------------------------------


def test_dashboard_fits_80_columns(operator: ContractServer) -> None:
    code, out, err = invoke("admin", "dashboard")
    assert code == 0, err
    assert widest(out) <= 80, out
    for needle in ("Dashboard", "1 active", "$40.00", "Recent customers", "PODs", "Alerts"):
        assert needle in out
    code, out, _ = invoke("admin", "dashboard", "--json")
    board = json.loads(out)
    assert list(board) == ["pods", "revenue", "plans", "customers", "alerts", "activity"]
    assert board["pods"]["pods"][0]["pod_id"] == "pod-1a2b3c4d"


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["admin", "pods"], ["pod-1a2b3c4d", "running", "0/10k"]),
        (["admin", "customers"], ["ana@example.com", "$40.00"]),
        (["admin", "billing"], ["8MC585209K746392H", "$40.00"]),
        (["admin", "customer", "ana@example.com"], ["1790869571001", "Payments", "PayPal"]),
        (["admin", "transaction", "8MC585209K746392H"], ["ana@example.com", "40"]),
        (["admin", "costs"], ["$8.89", "active PODs", "profit"]),
        (["admin", "pod", "metrics", "pod-1a2b3c4d"], ["25.5", "10.0.0.1"]),
        (["admin", "mode"], ["sandbox"]),
        (["admin", "mode", "--config"], ["console", "gpubroker.site"]),
    ],
)
def test_operator_views_fit_80_columns(
    operator: ContractServer, args: list[str], needles: list[str]
) -> None:
    code, out, err = invoke(*args)
    assert code == 0, err
    assert widest(out) <= 80, out
    for needle in needles:
        assert needle in out
    code, out, _ = invoke(*args, "--json")
    assert code == 0 and json.loads(out)


def test_operator_views_json_fields(operator: ContractServer) -> None:
    _, out, _ = invoke("admin", "pods", "--json")
    assert list(json.loads(out)[0]) == [
        "pod_id", "subscription_id", "email", "name", "plan", "status", "pod_url", "created_at",
        "tokens_used", "token_limit",
    ]  # fmt: skip
    _, out, _ = invoke("admin", "billing", "--format", "csv")
    assert out.splitlines()[0] == (
        "transaction_id,email,name,plan,amount_usd,method,status,pod_id,order_id,created_at,date"
    )


def test_unknown_customer_and_transaction_are_exit_3(operator: ContractServer) -> None:
    operator.defects.add("lookup_500")
    code, _, err = invoke("admin", "customer", "nobody@example.com")
    assert code == 3 and "does not exist (the server answered HTTP 500" in err
    code, _, err = invoke("admin", "transaction", "TXN-nope")
    assert code == 3 and "gpubroker admin billing" in err


def test_destroy_asks_and_needs_yes(operator: ContractServer) -> None:
    before = len(operator.requests)
    code, _, err = invoke("admin", "pod", "destroy", "pod-1a2b3c4d")
    assert code == 6 and "needs confirmation" in err and "--yes" in err
    assert len(operator.requests) == before
    code, out, err = invoke("admin", "pod", "destroy", "pod-1a2b3c4d", "--yes", "--json")
    assert code == 0 and json.loads(out)["status"] == "destroyed"
    code, _, err = invoke("admin", "pod", "destroy", "pod-00000000", "--yes")
    assert code == 3 and "Pod not found" in err
    assert invoke("admin", "pod", "start", "pod-1a2b3c4d")[0] == 6
    code, out, _ = invoke("admin", "pod", "start", "pod-1a2b3c4d", "-y", "--json")
    assert code == 0 and json.loads(out)["status"] == "provisioning"


def test_live_mode_needs_confirm(operator: ContractServer) -> None:
    before = len(operator.requests)
    code, _, err = invoke("admin", "mode", "live")
    assert code == 6 and "--confirm" in err and len(operator.requests) == before
    code, out, _ = invoke("admin", "mode", "live", "--confirm", "--json")
    assert code == 0 and json.loads(out)["new_mode"] == "live"
    assert invoke("admin", "mode", "turbo")[0] == 2
    assert invoke("admin", "mode", "sandbox")[0] == 0


def test_resend_receipt_defect_is_exit_5(operator: ContractServer) -> None:
    operator.defects.add("dict_body_422")
    code, _, err = invoke("admin", "resend-receipt", "ana@example.com")
    assert code == 5 and "known backend defect" in err
    operator.defects = set()
    code, out, _ = invoke("admin", "resend-receipt", "ana@example.com")
    assert code == 0 and "Receipt sent to ana@example.com" in out


def test_rejected_token_is_exit_4_and_server_failure_exit_5(
    http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPUBROKER_TOKEN", "expired-token")
    http_mock.get(f"{API}/admin/pods").respond(401, json={"detail": "Unauthorized"})
    code, _, err = invoke("admin", "pods")
    assert code == 4 and "Unauthorized" in err and "gpubroker auth login" in err
    http_mock.get(f"{API}/admin/customers").respond(502, text="Bad Gateway")
    code, _, err = invoke("admin", "customers")
    assert code == 5 and "Bad Gateway (HTTP 502)" in err


def test_admin_without_a_token_is_exit_4() -> None:
    code, _, err = invoke("admin", "pods")
    assert code == 4 and "not logged in" in err and "GPUBROKER_TOKEN" in err


# --- agent --------------------------------------------------------------------------------------


def test_agent_commands(operator: ContractServer) -> None:
    code, out, err = invoke("agent", "start", "pod-1a2b3c4d", "--budget", "50", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "running"
    code, out, _ = invoke("agent", "decisions", "pod-1a2b3c4d", "--status", "pending")
    assert code == 0 and "dec-1" in out and widest(out) <= 80
    assert invoke("agent", "approve", "pod-1a2b3c4d", "dec-1", "--notes", "ok")[0] == 0
    code, out, _ = invoke("agent", "status", "pod-1a2b3c4d", "--json")
    status = json.loads(out)
    assert status["budget_used_usd"] == 4.5 and status["budget_remaining_usd"] == 45.5
    assert invoke("agent", "reject", "pod-1a2b3c4d", "dec-9")[0] == 3
    code, out, _ = invoke("agent", "budget", "pod-1a2b3c4d", "75", "--json")
    assert code == 0 and json.loads(out)["budget_limit_usd"] == 75.0
    code, out, _ = invoke("agent", "message", "pod-1a2b3c4d", "-", input="scale down\n")
    assert code == 0 and "Agent Zero received: scale down" in out
    for action, state in (("pause", "paused"), ("resume", "running"), ("stop", "stopped")):
        code, out, _ = invoke("agent", action, "pod-1a2b3c4d", "--json")
        assert code == 0 and json.loads(out)["status"] == state
    code, _, err = invoke("agent", "status", "pod-00000000")
    assert code == 3 and "gpubroker agent start" in err


@pytest.mark.parametrize("bad", ["nan", "inf", "-1", "0"])
def test_agent_budget_must_be_a_positive_finite_number(operator: ContractServer, bad: str) -> None:
    before = len(operator.requests)
    code, _, err = invoke("agent", "budget", "pod-1a2b3c4d", "--", bad)
    assert code == 2 and "--budget must be a positive number of USD" in err
    assert len(operator.requests) == before


# --- rendering of untrusted text ----------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_server_text_is_never_rich_markup_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = Terminal()
    record = {"email": "[bold red]x[/bold red]@a.co", "note": "[link=http://evil]click[/link]"}
    render.write_record(record, OutputFormat.TABLE, title="[blink]T[/blink]", out=out)
    text = out.getvalue()
    assert "[bold red]x[/bold red]@a.co" in text and "[link=http://evil]click[/link]" in text
    assert "[blink]T[/blink]" in text and widest(text) <= 80
    table = Terminal()
    render.write_data([record], OutputFormat.TABLE, out=table)
    assert "[bold red]x[/bold red]@a.co" in table.getvalue()


def test_a_long_record_wraps_within_80_columns_off_a_terminal() -> None:
    out = io.StringIO()
    words = " ".join(["word"] * 60)
    url = "https://x.co/" + "a" * 100
    render.write_record({"text": words, "url": url}, OutputFormat.TABLE, out=out)
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines if url not in line)
    assert any(line.endswith(url) for line in lines)  # a URL stays whole, to be copied


def test_the_big_groups_are_built_only_when_used() -> None:
    from tests.test_layers import modules_after

    loaded = modules_after(
        "import typer.main\nfrom gpubroker.cli import app\ntyper.main.get_command(app)"
    )
    lazy = {f"gpubroker.commands.{name}" for name in ("auth", "pay", "validate", "admin", "agent")}
    assert not lazy & loaded
    code, out, _ = invoke("admin", "--help")
    assert code == 0 and "resend-receipt" in out and "--install-completion" not in out


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "http://paypal.example/approve", "file:///etc/passwd", ""]
)
def test_an_approval_url_that_is_not_https_is_never_printed(
    http_mock: respx.MockRouter, url: str
) -> None:
    assert invoke("subscribe", "--plan", "pro", "--email", "a@b.co", "--country", "US")[0] == 0
    http_mock.post(f"{API}/admin/public/payment/paypal").respond(
        200, json={"success": True, "order_id": "O-1", "payment_url": url}
    )
    code, out, err = invoke("pay", "paypal")
    assert code == 5 and out == ""
    assert not url or url not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--email", "a@b.co\x1b[2J"], "--email must be an e-mail address"),
        (["--email", "an\u202ea@b.co"], "--email must be an e-mail address"),
        (["--email", "a@b.co", "--country", "E\x00"], "--country must be a two-letter ISO code"),
        (["--email", "a@b.co", "--country", "EC", "--tax-id", "1713488185\x1b[31m"],
         "invalid RUC or cédula"),
        (["--email", "a@b.co", "--name", "x" * 500], "--name must be at most 120 characters"),
    ],
)  # fmt: skip
def test_hostile_subscribe_input_is_refused_before_any_request(
    args: list[str], needle: str
) -> None:
    code, out, err = invoke("subscribe", "--plan", "pro", *args)
    assert code in (2, 6) and needle in err and out == ""
    assert "\x1b" not in err and "\x00" not in err


def test_markup_in_a_name_is_kept_as_text(http_mock: respx.MockRouter) -> None:
    code, out, _ = invoke(
        "subscribe", "--plan", "pro", "--email", "a@b.co", "--country", "US",
        "--name", "[bold]Ana[/bold]\u202e", "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["name"] == "[bold]Ana[/bold]"


def test_plans_offline_never_ask_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUBROKER_OFFLINE", "true")  # respx fails any request
    code, out, err = invoke("plans", "--json")
    assert code == 0 and "offline" in err
    assert [r["source"] for r in json.loads(out)] == ["built-in"] * 5
