"""Contract tests of `AdminClient` with respx: every route's success, every error shape,
timeouts, retries only for idempotent calls, and each known backend defect (admin-api.md)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from gpubroker.api import models as m
from gpubroker.api.client import AdminClient, normalise_base_url
from gpubroker.errors import (
    ConfigError,
    GpubrokerError,
    InvalidCredentialsError,
    MissingCredentialsError,
    NotFoundError,
    RefusedError,
    RemoteError,
    RemoteResponseError,
    RemoteTimeoutError,
    UsageError,
)
from gpubroker.http import make_client

BASE = "https://gpubroker.site"
API = f"{BASE}/api/v2"
TOKEN = "header.eyJlbWFpbCI6Im9wc0B4In0.signature-token-value"
KEY = "gpuk_0123456789abcdef0123456789abcdef"


@pytest.fixture
def client() -> Iterator[AdminClient]:
    http = make_client(sleep=lambda _s: None)
    try:
        yield AdminClient(BASE, http, token=TOKEN, secrets=[KEY])
    finally:
        http.close()


def body_of(route: respx.Route) -> Any:
    return json.loads(route.calls.last.request.content)


# --- every route: success ---------------------------------------------------------------------

GEO_EC = {
    "geo": {"country_code": "EC", "country_name": "Ecuador", "detected": True, "source": "ipapi"},
    "validation": {
        "requires_tax_id": True,
        "tax_id_name": "RUC/Cédula",
        "tax_id_formats": ["ruc", "cedula"],
        "language": "es",
    },
    "show_tax_id": True,
    "tax_id_label": "RUC/Cédula",
    "language": "es",
}
MODE = {
    "mode": "sandbox",
    "is_live": False,
    "vault_enabled": False,
    "stripe_configured": True,
    "paypal_configured": True,
    "mock_gpu": True,
    "email_backend": "console",
    "domain": "gpubroker.site",
    "geo": {"force_country": None, "deployment_region": "GLOBAL", "is_ecuador": False},
}
POD = {
    "id": "pod-1a2b3c4d",
    "subscription_id": "sub_0123456789ab",
    "email": "ana@example.com",
    "name": "Ana",
    "plan": "pro",
    "status": "running",
    "pod_url": "https://pod-1a2b3c4d.gpubroker.site",
    "created_at": "2026-01-08T10:00:00",
    "tokens_used": 1200,
    "token_limit": 10000,
}

# (id, method, path, call, answer, check of the result, check of the request)
Case = tuple[
    str,
    str,
    str,
    Callable[[AdminClient], Any],
    Any,
    Callable[[Any], bool],
    Callable[[httpx.Request], bool],
]


def no_auth(request: httpx.Request) -> bool:
    return "authorization" not in request.headers


def bearer(request: httpx.Request) -> bool:
    return request.headers.get("authorization") == f"Bearer {TOKEN}"


def sent(**expected: Any) -> Callable[[httpx.Request], bool]:
    return lambda request: json.loads(request.content) == expected


CASES: list[Case] = [
    ("health", "GET", "/admin/public/health", lambda c: c.health(),
     {"status": "healthy", "service": "GPUBROKER Admin"}, lambda r: r.status == "healthy",
     no_auth),
    ("geo", "GET", "/admin/public/geo/detect", lambda c: c.geo_detect("ec"), GEO_EC,
     lambda r: (r.country_code, r.requires_tax_id, r.tax_id_label, r.tax_id_formats)
     == ("EC", True, "RUC/Cédula", ["ruc", "cedula"]),
     lambda q: q.url.params["force_country"] == "EC" and no_auth(q)),
    ("login", "POST", "/admin/public/admin/login", lambda c: c.login("ops@x.co", "pw"),
     {"success": True, "token": "jwt-1", "user": {"id": "u1", "email": "ops@x.co",
      "role": "admin", "name": "Ops"}, "error": None},
     lambda r: r.token == "jwt-1" and r.user.role == "admin",
     sent(email="ops@x.co", password="pw")),
    ("create", "POST", "/admin/public/subscription/create",
     lambda c: c.create_subscription(m.SubscriptionRequest(email="a@b.co", plan="pro",
                                                           ruc="1790869571001", amount=40.0,
                                                           country_code="EC")),
     {"success": True, "subscription_id": "sub_0123456789ab", "api_key": KEY,
      "pod_id": "pod-1a2b3c4d", "pod_url": "https://pod-1a2b3c4d.gpubroker.site",
      "status": "pending_activation", "message": "ok"},
     lambda r: r.api_key == KEY and r.subscription_id == "sub_0123456789ab",
     lambda q: json.loads(q.content)["ruc"] == "1790869571001"
     and json.loads(q.content)["amount"] == 40.0 and no_auth(q)),
    ("activate", "POST", "/admin/public/subscription/activate", lambda c: c.activate(KEY),
     {"success": True, "pod_id": "pod-1a2b3c4d", "pod_url": "https://x", "status":
      "provisioning", "message": "ok"}, lambda r: r.status == "provisioning",
     sent(api_key=KEY)),
    ("pod status", "GET", "/admin/public/pod/status", lambda c: c.pod_status(KEY),
     {"success": True, "status": "running", "progress": 100, "pod_id": "pod-1a2b3c4d",
      "pod_url": "https://x", "tokens_remaining": 8800, "expires_at": "2026-02-07T10:00:00"},
     lambda r: (r.progress_percent, r.tokens_remaining) == (100, 8800),
     lambda q: q.url.params["key"] == KEY),
    ("validate ruc", "POST", "/admin/public/validate/ruc",
     lambda c: c.validate_ruc("1790869571001"),
     {"valid": True, "message": "RUC válido", "type": "ruc"},
     lambda r: r.valid and r.kind == "ruc", sent(ruc="1790869571001")),
    ("validate cedula", "POST", "/admin/public/validate/cedula",
     lambda c: c.validate_cedula("1713488185"),
     {"valid": True, "message": "ok", "type": "cedula"}, lambda r: r.valid,
     sent(cedula="1713488185")),
    ("validate identity", "POST", "/admin/public/validate/identity",
     lambda c: c.validate_identity("1713488185"),
     {"valid": False, "message": "Dígito verificador inválido", "type": "cedula"},
     lambda r: r.valid is False, sent(identifier="1713488185")),
    ("public mode", "GET", "/admin/public/mode", lambda c: c.mode(), MODE,
     lambda r: r.mode == "sandbox" and r.deployment_region == "GLOBAL", no_auth),
    ("mode config", "GET", "/admin/public/mode/config", lambda c: c.mode_config(),
     {"mode": "sandbox", "vault": {"enabled": False, "addr": None}, "stripe":
      {"configured": True}, "paypal": {"configured": True, "api_base": "https://p"},
      "gpu": {"mock": True, "cache_ttl": 30}, "email": {"backend": "console", "use_ses":
      False}, "domain": {"base": "gpubroker.site", "api": "api.gpubroker.site"},
      "features": {"auto_confirm": True}},
     lambda r: (r.gpu_cache_ttl_s, r.paypal_api_base, r.features)
     == (30.0, "https://p", {"auto_confirm": True}), no_auth),
    ("paypal order", "POST", "/admin/public/payment/paypal",
     lambda c: c.paypal_order(email="a@b.co", plan="pro", amount_usd=40.0),
     {"success": True, "payment_url": "https://paypal.test/approve?t=1", "order_id": "O-1"},
     lambda r: r.approval_url == "https://paypal.test/approve?t=1",
     sent(email="a@b.co", plan="pro", amount=40.0, ruc="", name="")),
    ("paypal capture", "POST", "/admin/public/payment/paypal/capture/O-1",
     lambda c: c.paypal_capture("O-1"),
     {"success": True, "status": "COMPLETED", "transaction_id": "T-1", "order_id": "O-1",
      "email": "a@b.co", "plan": "pro", "amount": "40.00", "ruc": "", "name": ""},
     lambda r: (r.transaction_id, r.amount_usd) == ("T-1", 40.0), no_auth),
    ("paypal status", "GET", "/admin/public/payment/paypal/status",
     lambda c: c.paypal_config(),
     {"configured": True, "mode": "sandbox", "client_id_set": True,
      "client_secret_set": False, "api_base": "https://api-m.sandbox.paypal.com"},
     lambda r: r.configured and r.client_secret_set is False, no_auth),
    ("plans", "GET", "/billing/plans", lambda c: c.plans(),
     {"plans": [{"id": "p1", "name": "Gratis", "tier": "free", "price_monthly": 0,
                 "tokens_monthly": 1000}, {"id": "p2", "name": "Pro", "tier": "pro",
                 "price_monthly": "40.00", "tokens_monthly": 10000}], "default_plan": "free"},
     lambda r: [(p.plan, p.price_usd_month) for p in r] == [("trial", 0.0), ("pro", 40.0)],
     no_auth),
    ("dashboard", "GET", "/admin/dashboard", lambda c: c.dashboard(),
     {"pods": {"active": 1, "total": 2, "provisioning": 1, "change": "+2", "list": [
         {"id": "pod-1a2b3c4d", "email": "a@b.co", "plan": "pro", "status": "running"}]},
      "revenue": {"amount": 40.0, "monthly": [0] * 11 + [40.0], "change": "+23%",
                  "transactions": 1, "average": 40.0, "growth": "+23%"},
      "plans": {"trial": 1, "pro": 1, "corp": 0},
      "customers": {"total": 2, "active": 1, "change": "+1", "recent": []},
      "alerts": {"count": 0, "items": []}, "activity": []},
     lambda r: r.pods.pods[0].pod_id == "pod-1a2b3c4d" and r.revenue.monthly_usd[-1] == 40.0,
     bearer),
    ("pods", "GET", "/admin/pods", lambda c: c.pods(), {"success": True, "pods": [POD]},
     lambda r: r[0].pod_id == "pod-1a2b3c4d" and r[0].token_limit == 10000, bearer),
    ("pod start", "POST", "/admin/pod/start", lambda c: c.pod_start("pod-1a2b3c4d"),
     {"success": True, "message": "Pod pod-1a2b3c4d iniciando", "status": "provisioning",
      "task_arn": "arn:aws:ecs:us-east-1:1:task/x"}, lambda r: r.status == "provisioning",
     lambda q: bearer(q) and sent(pod_id="pod-1a2b3c4d")(q)),
    ("pod destroy", "POST", "/admin/pod/destroy", lambda c: c.pod_destroy("pod-1a2b3c4d"),
     {"success": True, "message": "Pod pod-1a2b3c4d destruido", "status": "destroyed"},
     lambda r: r.status == "destroyed", sent(pod_id="pod-1a2b3c4d")),
    ("pod metrics", "GET", "/admin/pod/pod-1a2b3c4d/metrics",
     lambda c: c.pod_metrics("pod-1a2b3c4d"),
     {"success": True, "pod_id": "pod-1a2b3c4d", "public_ip": "10.0.0.1", "private_ip": None,
      "cpu_utilization": 25.5, "memory_utilization": 45.2, "uptime_seconds": 3600,
      "task_arn": "arn", "status": "running"},
     lambda r: (r.cpu_percent, r.memory_percent, r.uptime_s) == (25.5, 45.2, 3600.0), bearer),
    ("costs", "GET", "/admin/costs", lambda c: c.costs(),
     {"success": True, "aws_costs": {"total": 8.89, "total_hours": 720, "pod_count": 1},
      "profitability": {"revenue": 40, "aws_costs": 8.89, "other_costs": 10,
                        "total_costs": 18.89, "profit": 21.11, "margin_percent": 52.8,
                        "is_profitable": True},
      "per_pod_estimate": {"vcpu": 0.25, "memory_gb": 0.5, "monthly_cost": 8.89},
      "active_pods": 1, "total_revenue": 40, "last_updated": "2026-01-08T10:00:00"},
     lambda r: (r.aws.total_usd, r.profitability.profit_usd, r.per_pod_estimate.memory_gib)
     == (8.89, 21.11, 0.5), bearer),
    ("customers", "GET", "/admin/customers", lambda c: c.customers(),
     {"success": True, "customers": [{"email": "a@b.co", "name": "a", "plan": "pro",
      "status": "running", "pod_id": "pod-1", "ruc": "1790869571001", "created_at": "x",
      "total_paid": 40.0}]},
     lambda r: (r[0].tax_id, r[0].total_paid_usd) == ("1790869571001", 40.0), bearer),
    ("customer", "GET", "/admin/customer/a%40b.co", lambda c: c.customer("a@b.co"),
     {"email": "a@b.co", "name": "Cliente", "plan": "pro", "status": "running",
      "pod_id": "pod-1", "pod_status": "running", "ruc": "", "created_at": "x",
      "total_paid": 40, "payments": [{"amount": 40, "date": "2026-01-08", "method": "Stripe",
                                      "description": "Plan PRO"}]},
     lambda r: r.payments[0].amount_usd == 40.0 and r.pod_status == "running", bearer),
    ("billing", "GET", "/admin/billing", lambda c: c.billing(),
     {"success": True, "transactions": [{"id": "TXN-sub_0123", "email": "a@b.co",
      "name": "a", "plan": "pro", "amount": 40, "method": "paypal", "status": "completed",
      "pod_id": "pod-1", "order_id": "O-1", "created_at": "x", "date": "2026-01-08"}]},
     lambda r: r[0].transaction_id == "TXN-sub_0123" and r[0].amount_usd == 40.0, bearer),
    ("transaction", "GET", "/admin/transaction/T-1", lambda c: c.transaction("T-1"),
     {"transaction_id": "T-1", "amount": 40, "email": "a@b.co", "name": "a", "plan": "pro",
      "pod_id": "pod-1", "status": "completed", "method": "paypal", "created_at": "x",
      "date": "2026-01-08"}, lambda r: r.transaction_id == "T-1", bearer),
    ("resend receipt", "POST", "/admin/resend-receipt", lambda c: c.resend_receipt("a@b.co"),
     {"success": True, "message": "Receipt sent to a@b.co"},
     lambda r: r.message == "Receipt sent to a@b.co", sent(email="a@b.co")),
    ("admin mode", "GET", "/admin/mode", lambda c: c.admin_mode(), {**MODE, "can_switch": True},
     lambda r: r.can_switch is True, bearer),
    ("set mode", "POST", "/admin/mode", lambda c: c.set_mode("live", confirm=True),
     {"success": True, "message": "ok", "old_mode": "sandbox", "new_mode": "live",
      "admin": "ops@x.co", "status": MODE}, lambda r: r.new_mode == "live",
     sent(mode="live", confirm=True)),
    ("agent start", "POST", "/agent/start", lambda c: c.agent_start("pod-1", 50.0),
     {"success": True, "status": "running", "session_id": "s-1"},
     lambda r: r.session_id == "s-1", sent(pod_id="pod-1", budget_limit=50.0)),
    ("agent stop", "POST", "/agent/stop", lambda c: c.agent_action("stop", "pod-1"),
     {"success": True, "status": "stopped"}, lambda r: r.status == "stopped",
     sent(pod_id="pod-1")),
    ("agent pause", "POST", "/agent/pause", lambda c: c.agent_action("pause", "pod-1"),
     {"success": True, "status": "paused"}, lambda r: r.status == "paused", bearer),
    ("agent resume", "POST", "/agent/resume", lambda c: c.agent_action("resume", "pod-1"),
     {"success": True, "status": "running"}, lambda r: r.status == "running", bearer),
    ("agent status", "GET", "/agent/status/pod-1", lambda c: c.agent_status("pod-1"),
     {"status": "running", "pod_id": "pod-1", "budget_limit": 50, "budget_used": 4.5,
      "budget_remaining": 45.5, "budget_percentage": 9, "decisions_count": 1,
      "pending_decisions": 0, "session_id": "s-1"},
     lambda r: (r.budget_remaining_usd, r.budget_percent) == (45.5, 9.0), bearer),
    ("agent decisions", "GET", "/agent/decisions/pod-1",
     lambda c: c.agent_decisions("pod-1", status="pending", limit=5),
     [{"id": "d-1", "action_type": "scale", "status": "pending", "estimated_cost": 4.5}],
     lambda r: (r[0].decision_id, r[0].estimated_cost_usd) == ("d-1", 4.5),
     lambda q: (q.url.params["status"], q.url.params["limit"]) == ("pending", "5")),
    ("agent decisions wrapped", "GET", "/agent/decisions/pod-1",
     lambda c: c.agent_decisions("pod-1"),
     {"decisions": [{"decision_id": "d-2", "type": "optimize", "status": "executed"}]},
     lambda r: (r[0].decision_id, r[0].action_type) == ("d-2", "optimize"), bearer),
    ("agent approve", "POST", "/agent/decisions/pod-1/d-1/override",
     lambda c: c.agent_override("pod-1", "d-1", "approve", "go"),
     {"success": True, "decision_id": "d-1", "status": "executed"},
     lambda r: r.status == "executed", sent(action="approve", notes="go")),
    ("agent reject", "POST", "/agent/decisions/pod-1/d-1/override",
     lambda c: c.agent_override("pod-1", "d-1", "reject"),
     {"success": True, "status": "rejected"}, lambda r: r.status == "rejected",
     sent(action="reject", notes="")),
    ("agent budget", "POST", "/agent/budget", lambda c: c.agent_budget("pod-1", 75.0),
     {"success": True, "budget_limit": 75}, lambda r: r.budget_limit_usd == 75.0,
     sent(pod_id="pod-1", new_limit=75.0)),
    ("agent message", "POST", "/agent/message", lambda c: c.agent_message("pod-1", "hola"),
     {"success": True, "message_id": "m-1", "response": "Agent Zero received: hola",
      "tokens_used": 12}, lambda r: r.response == "Agent Zero received: hola",
     sent(pod_id="pod-1", message="hola")),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_route_succeeds(case: Case, client: AdminClient, http_mock: respx.MockRouter) -> None:
    _, method, path, call, answer, check, check_request = case
    route = http_mock.request(method, f"{API}{path}").respond(200, json=answer)
    assert check(call(client))
    assert route.call_count == 1
    assert check_request(route.calls.last.request)


def test_secrets_never_appear_in_model_dumps_or_reprs() -> None:
    created = m.SubscriptionCreated.model_validate({"api_key": KEY, "subscription_id": "s"})
    login = m.LoginResult.model_validate({"success": True, "access_token": TOKEN})
    assert created.api_key == KEY and login.token == TOKEN  # usable...
    for model in (created, login):  # ...never shown
        assert KEY not in repr(model) + json.dumps(model.model_dump(mode="json"))
        assert TOKEN not in repr(model) + json.dumps(model.model_dump(mode="json"))


# --- every error shape ------------------------------------------------------------------------

SHAPES = [
    ("401 detail", 401, {"detail": "Unauthorized"}, InvalidCredentialsError, "Unauthorized"),
    ("403 detail", 403, {"detail": "Forbidden"}, InvalidCredentialsError, "Forbidden"),
    ("404 detail", 404, {"detail": "Not Found: No Pod matches the given query."},
     NotFoundError, "No Pod matches the given query"),
    ("422 detail list", 422, {"detail": [{"type": "missing", "loc": ["body", "data", "pod_id"],
                                          "msg": "Field required"}]},
     RefusedError, "data.pod_id: Field required"),
    ("400 detail", 400, {"detail": "Payment method required for paid plans"}, RefusedError,
     "Payment method required for paid plans"),
    ("409 envelope", 409, {"error": {"code": "CONFLICT", "message": "Ya existe",
                                     "details": {}, "trace_id": "t-9"}},
     RefusedError, "Ya existe"),
    ("error string", 400, {"error": "RUC debe tener 13 dígitos"}, RefusedError,
     "RUC debe tener 13 dígitos"),
    ("500 html", 500, "<!doctype html><title>Server Error (500)</title><h1>Server Error</h1>",
     RemoteError, "HTML error page (Server Error (500))"),
    ("500 envelope", 500, {"error": {"code": "INTERNAL_ERROR", "message": "Error interno",
                                     "trace_id": "abc-123"}}, RemoteError, "Error interno"),
    ("503 text", 503, "upstream connect error or disconnect/reset before headers",
     RemoteError, "upstream connect error"),
    ("200 success false not found", 200, {"success": False, "error": "Pod not found"},
     NotFoundError, "Pod not found"),
    ("200 success false auth", 200, {"success": False, "error": "API Key inválida o expirada"},
     InvalidCredentialsError, "API Key inválida o expirada"),
    ("200 success false refused", 200, {"success": False, "error":
                                        "Suscripción ya está activa o en proceso"},
     RefusedError, "Suscripción ya está activa o en proceso"),
    ("200 envelope no success", 200, {"error": {"code": "NOT_FOUND", "message": "No existe"}},
     NotFoundError, "No existe"),
    ("200 bare error", 200, {"error": "Cambiar a MODO LIVE requiere confirm=true"},
     RefusedError, "Cambiar a MODO LIVE requiere confirm=true"),
]  # fmt: skip


@pytest.mark.parametrize("shape", SHAPES, ids=[s[0] for s in SHAPES])
def test_every_error_shape_maps_to_its_exit_code_and_keeps_the_server_text(
    shape: tuple[str, int, Any, type[GpubrokerError], str],
    client: AdminClient,
    http_mock: respx.MockRouter,
) -> None:
    _, status, body, error, text = shape
    kwargs: dict[str, Any] = {"json": body} if not isinstance(body, str) else {"text": body}
    if isinstance(body, str) and body.startswith("<"):
        kwargs["headers"] = {"content-type": "text/html"}
    http_mock.post(f"{API}/admin/pod/start").respond(status, **kwargs)
    with pytest.raises(error) as caught:
        client.pod_start("pod-1")
    assert type(caught.value) is error
    assert caught.value.message.startswith("starting POD pod-1: ")
    assert text in caught.value.message
    assert caught.value.hint  # always says what to do next


def test_auth_and_server_hints(client: AdminClient, http_mock: respx.MockRouter) -> None:
    http_mock.get(f"{API}/admin/pods").respond(401, json={"detail": "Unauthorized"})
    with pytest.raises(InvalidCredentialsError) as caught:
        client.pods()
    assert caught.value.exit_code == 4 and "gpubroker auth login" in (caught.value.hint or "")
    http_mock.get(f"{API}/admin/costs").respond(
        500, json={"error": {"code": "INTERNAL_ERROR", "message": "x", "trace_id": "abc-123"}}
    )
    with pytest.raises(RemoteError) as failed:
        client.costs()
    assert failed.value.exit_code == 5 and "abc-123" in (failed.value.hint or "")
    http_mock.get(f"{API}/admin/public/pod/status").respond(
        200, json={"success": False, "error": "API Key inválida o expirada"}
    )
    with pytest.raises(InvalidCredentialsError) as bad_key:
        client.pod_status(KEY)
    assert "GPUBROKER_API_KEY" in (bad_key.value.hint or "")


def test_a_debug_traceback_page_is_quoted_by_its_first_lines_only(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    page = (
        "ModuleNotFoundError at /api/v2/admin/public/subscription/activate\n"
        "No module named 'gpubrokeradmin.apps.services'\n\nRequest Method: POST\n"
        f"META: {{'HTTP_AUTHORIZATION': 'Bearer {TOKEN}', 'QUERY_STRING': 'key={KEY}'}}\n"
    )
    http_mock.post(f"{API}/admin/public/subscription/activate").respond(
        500, text=page, headers={"content-type": "text/plain"}
    )
    with pytest.raises(RemoteError) as caught:
        client.activate(KEY)
    message = caught.value.message
    assert "ModuleNotFoundError" in message and "No module named" in message
    assert "META" not in message and TOKEN not in message and KEY not in message


def test_secrets_the_server_echoes_are_redacted(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.post(f"{API}/admin/public/subscription/activate").respond(
        200, json={"success": False, "error": f"API Key inválida o expirada: {KEY}"}
    )
    with pytest.raises(InvalidCredentialsError) as caught:
        client.activate(KEY)
    assert KEY not in caught.value.message and "<redacted>" in caught.value.message
    http_mock.get(f"{API}/admin/pods").respond(403, json={"detail": f"bad token {TOKEN}"})
    with pytest.raises(InvalidCredentialsError) as refused:
        client.pods()
    assert TOKEN not in refused.value.message


# --- retries only for idempotent calls, timeouts, network -------------------------------------


def test_gets_are_retried_on_503_and_429(client: AdminClient, http_mock: respx.MockRouter) -> None:
    route = http_mock.get(f"{API}/admin/pods").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(200, json={"pods": [POD]}),
        ]
    )
    assert client.pods()[0].pod_id == "pod-1a2b3c4d"
    assert route.call_count == 3


@pytest.mark.parametrize(
    ("name", "call", "path"),
    [
        ("create", lambda c: c.create_subscription(m.SubscriptionRequest(email="a@b.co")),
         "/admin/public/subscription/create"),
        ("activate", lambda c: c.activate(KEY), "/admin/public/subscription/activate"),
        ("login", lambda c: c.login("a@b.co", "pw"), "/admin/public/admin/login"),
        ("pod start", lambda c: c.pod_start("pod-1"), "/admin/pod/start"),
        ("pod destroy", lambda c: c.pod_destroy("pod-1"), "/admin/pod/destroy"),
        ("capture", lambda c: c.paypal_capture("O-1"),
         "/admin/public/payment/paypal/capture/O-1"),
        ("paypal", lambda c: c.paypal_order(email="a@b.co", plan="pro", amount_usd=40),
         "/admin/public/payment/paypal"),
        ("agent message", lambda c: c.agent_message("pod-1", "hi"), "/agent/message"),
    ],
)  # fmt: skip
def test_posts_with_effects_are_never_retried(
    name: str,
    call: Callable[[AdminClient], Any],
    path: str,
    client: AdminClient,
    http_mock: respx.MockRouter,
) -> None:
    route = http_mock.post(f"{API}{path}").respond(503, text="busy")
    with pytest.raises(GpubrokerError) as caught:
        call(client)
    assert route.call_count == 1
    assert caught.value.exit_code in (4, 5)  # login: a failed login (exit 4)


def test_idempotent_posts_are_retried(client: AdminClient, http_mock: respx.MockRouter) -> None:
    route = http_mock.post(f"{API}/agent/budget").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json={"success": True})]
    )
    assert client.agent_budget("pod-1", 10).success is True
    assert route.call_count == 2


def test_timeouts_are_exit_5(client: AdminClient, http_mock: respx.MockRouter) -> None:
    route = http_mock.get(f"{API}/admin/dashboard").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RemoteTimeoutError) as caught:
        client.dashboard()
    assert caught.value.exit_code == 5 and route.call_count == 3
    assert caught.value.message == f"reading the dashboard: {BASE}: timed out"
    http_mock.post(f"{API}/admin/pod/destroy").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RemoteTimeoutError) as posted:
        client.pod_destroy("pod-1")
    assert "may have reached the server" in (posted.value.hint or "")


def test_network_errors_are_exit_5(client: AdminClient, http_mock: respx.MockRouter) -> None:
    http_mock.get(f"{API}/admin/public/health").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(RemoteError) as caught:
        client.health()
    assert caught.value.exit_code == 5 and "network error (ConnectError)" in caught.value.message
    assert "api_url" in (caught.value.hint or "")


# --- hostile answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "what"),
    [
        (httpx.Response(200, text="<html><body>Welcome</body></html>",
                        headers={"content-type": "text/html"}), "an HTML page"),
        (httpx.Response(200, text=""), "an empty answer"),
        (httpx.Response(200, text="not json"), "text"),
        (httpx.Response(200, json=[1, 2]), "a JSON list"),
    ],
)  # fmt: skip
def test_answers_that_are_not_the_documented_json_are_exit_5(
    answer: httpx.Response, what: str, client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.get(f"{API}/admin/costs").mock(return_value=answer)
    with pytest.raises(RemoteResponseError) as caught:
        client.costs()
    assert caught.value.exit_code == 5 and what in caught.value.message


def test_redirects_are_not_followed_with_the_token(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    moved = http_mock.get(f"{API}/admin/pods").respond(
        302, headers={"location": f"https://evil.example/steal?key={KEY}"}
    )
    with pytest.raises(RemoteResponseError) as caught:
        client.pods()
    assert moved.call_count == 1
    assert "redirected to https://evil.example" in caught.value.message
    assert KEY not in caught.value.message + (caught.value.hint or "")


def test_non_finite_numbers_and_control_characters_are_cleaned(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.get(f"{API}/admin/pod/pod-1/metrics").respond(
        200,
        text='{"success": true, "pod_id": "pod-1", "cpu_utilization": NaN,'
        ' "memory_utilization": Infinity, "uptime_seconds": -Infinity,'
        ' "status": "run\\u001b[31mning\\u202e", "public_ip": "[bold]1.2.3.4[/bold]"}',
    )
    metrics = client.pod_metrics("pod-1")
    assert metrics.cpu_percent is None and metrics.memory_percent is None
    assert metrics.uptime_s is None
    assert metrics.status == "running"  # no escape sequence, no bidi override
    assert metrics.public_ip == "[bold]1.2.3.4[/bold]"  # kept as text; rendered as text


def test_nulls_and_wrong_types_are_tolerated(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.get(f"{API}/admin/dashboard").respond(
        200,
        json={"pods": None, "revenue": "n/a", "plans": {"pro": "3", "x": None},
              "customers": {"recent": [None, "x", {"email": "a@b.co"}]}, "alerts": [],
              "activity": None},
    )  # fmt: skip
    board = client.dashboard()
    assert board.pods.pods == [] and board.revenue.amount_usd is None
    assert board.plans == {"pro": 3}
    assert [c.email for c in board.customers.recent] == ["a@b.co"]
    assert not math.isnan(board.revenue.monthly_usd[0] if board.revenue.monthly_usd else 0.0)


def test_user_values_cannot_escape_their_path_segment(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    route = http_mock.get(f"{API}/admin/pod/..%2Fmode%3Fx%3D1/metrics").respond(
        200, json={"success": True, "pod_id": "x"}
    )
    client.pod_metrics("../mode?x=1")
    assert route.call_count == 1
    with pytest.raises(UsageError):
        client.pod_metrics("  ")


def test_secrets_are_never_sent_over_plain_http_to_another_host(
    http_mock: respx.MockRouter,
) -> None:
    with make_client() as http:
        remote = AdminClient("http://gpubroker.site", http, token=TOKEN)
        with pytest.raises(RefusedError) as caught:
            remote.pods()
        assert "plain HTTP" in caught.value.message
        with pytest.raises(RefusedError):
            remote.pod_status(KEY)
        local = AdminClient("http://127.0.0.1:10355", http, token=TOKEN)
        route = http_mock.get("http://127.0.0.1:10355/api/v2/admin/pods").respond(
            200, json={"pods": []}
        )
        assert local.pods() == [] and route.call_count == 1


def test_admin_routes_need_a_token(http_mock: respx.MockRouter) -> None:
    with make_client() as http, pytest.raises(MissingCredentialsError) as caught:
        AdminClient(BASE, http).pods()
    assert "gpubroker auth login" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://gpubroker.site", BASE),
        ("https://gpubroker.site/", BASE),
        ("https://gpubroker.site/api/v2/", BASE),
        ("http://localhost:10355", "http://localhost:10355"),
        ("https://example.com/gateway/", "https://example.com/gateway"),
    ],
)
def test_base_urls_are_normalised(url: str, expected: str) -> None:
    assert normalise_base_url(url) == expected


@pytest.mark.parametrize(
    "url", ["gpubroker.site", "ftp://x", "https://user:pw@x.co", "https://x.co/?a=1", ""]
)
def test_bad_base_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        normalise_base_url(url)


# --- each known defect of the backend -----------------------------------------------------------


def test_defect_login_returns_a_null_token(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.post(f"{API}/admin/public/admin/login").respond(
        200, json={"success": True, "token": None, "user": {"email": "a@b.co"}, "error": None}
    )
    with pytest.raises(InvalidCredentialsError) as caught:
        client.login("a@b.co", "pw")
    assert "returned no token" in caught.value.message
    assert "--with-token" in (caught.value.hint or "")


def test_login_accepts_access_token(client: AdminClient, http_mock: respx.MockRouter) -> None:
    http_mock.post(f"{API}/admin/public/admin/login").respond(
        200, json={"access_token": "jwt-2", "refresh_token": "r", "token_type": "bearer",
                   "expires_in": 900},
    )  # fmt: skip
    result = client.login("a@b.co", "pw")
    assert result.token == "jwt-2" and result.expires_in_s == 900


def test_defect_failed_login_answers_500(client: AdminClient, http_mock: respx.MockRouter) -> None:
    http_mock.post(f"{API}/admin/public/admin/login").respond(
        500, text="<h1>Server Error (500)</h1>", headers={"content-type": "text/html"}
    )
    with pytest.raises(InvalidCredentialsError) as caught:
        client.login("a@b.co", "hunter2-secret")
    assert caught.value.exit_code == 4
    assert "wrong e-mail or password" in caught.value.message
    assert "hunter2-secret" not in caught.value.message


def test_login_refused_with_success_false(client: AdminClient, http_mock: respx.MockRouter) -> None:
    http_mock.post(f"{API}/admin/public/admin/login").respond(
        200, json={"success": False, "token": None, "user": None,
                   "error": "Cuenta bloqueada temporalmente"},
    )  # fmt: skip
    with pytest.raises(InvalidCredentialsError) as caught:
        client.login("a@b.co", "pw")
    assert "Cuenta bloqueada temporalmente" in caught.value.message


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda c: c.validate_ruc("1790869571001"), "/admin/public/validate/ruc"),
        (lambda c: c.validate_cedula("1713488185"), "/admin/public/validate/cedula"),
        (lambda c: c.validate_identity("1713488185"), "/admin/public/validate/identity"),
        (lambda c: c.resend_receipt("a@b.co"), "/admin/resend-receipt"),
    ],
)
def test_defect_dict_bodies_answer_422(
    call: Callable[[AdminClient], Any], path: str, client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.post(f"{API}{path}").respond(
        422, json={"detail": [{"type": "missing", "loc": ["query", "data"],
                               "msg": "Field required"}]},
    )  # fmt: skip
    with pytest.raises(RemoteError) as caught:
        call(client)
    assert caught.value.exit_code == 5
    assert "known backend defect" in caught.value.message


def test_defect_activation_of_a_valid_key_answers_500(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    route = http_mock.post(f"{API}/admin/public/subscription/activate").respond(
        500, text="<h1>Server Error (500)</h1>", headers={"content-type": "text/html"}
    )
    with pytest.raises(RemoteError) as caught:
        client.activate(KEY)
    assert caught.value.exit_code == 5 and caught.value.status_code == 500
    assert route.call_count == 1  # never retried: it may have half-started the POD


def test_defect_pod_status_answers_500_while_provisioning(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.get(f"{API}/admin/public/pod/status").respond(
        500, text="ModuleNotFoundError at /api/v2/admin/public/pod/status\nNo module",
        headers={"content-type": "text/plain"},
    )  # fmt: skip
    with pytest.raises(RemoteError) as caught:
        client.pod_status(KEY)
    assert caught.value.exit_code == 5 and "ModuleNotFoundError" in caught.value.message


HTML_500 = {"text": "<title>Server Error (500)</title>", "headers": {"content-type": "text/html"}}


def test_defect_unknown_customer_answers_500_and_is_not_found(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.get(f"{API}/admin/customer/zz%40b.co").respond(500, **HTML_500)
    http_mock.get(f"{API}/admin/customers").respond(200, json={"customers": [{"email": "a@b.co"}]})
    with pytest.raises(NotFoundError) as caught:
        client.customer("zz@b.co")
    assert caught.value.exit_code == 3
    assert caught.value.message.startswith("customer zz@b.co does not exist")


def test_a_500_for_a_known_customer_stays_a_server_error(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.get(f"{API}/admin/customer/a%40b.co").respond(500, **HTML_500)
    http_mock.get(f"{API}/admin/customers").respond(200, json={"customers": [{"email": "A@b.co"}]})
    with pytest.raises(RemoteError) as caught:
        client.customer("a@b.co")
    assert caught.value.exit_code == 5


def test_defect_unknown_transaction_answers_500_and_is_not_found(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.get(f"{API}/admin/transaction/T-9").respond(500, **HTML_500)
    http_mock.get(f"{API}/admin/billing").respond(500, **HTML_500)  # the check fails too
    with pytest.raises(NotFoundError) as caught:
        client.transaction("T-9")
    assert "probably does not exist" in caught.value.message


def test_defect_destroy_of_an_unknown_pod_is_a_200_failure(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.post(f"{API}/admin/pod/destroy").respond(
        200, json={"success": False, "error": "Pod not found"}
    )
    with pytest.raises(NotFoundError) as caught:
        client.pod_destroy("pod-nope")
    assert caught.value.message == "destroying POD pod-nope: Pod not found"
    assert "gpubroker admin pods" in (caught.value.hint or "")


def test_defect_paypal_routes_removed(client: AdminClient, http_mock: respx.MockRouter) -> None:
    http_mock.post(f"{API}/admin/public/payment/paypal").respond(404, json={"detail": "Not Found"})
    with pytest.raises(NotFoundError) as caught:
        client.paypal_order(email="a@b.co", plan="pro", amount_usd=40)
    assert "no PayPal route" in (caught.value.hint or "")


def test_defect_agent_api_not_mounted(client: AdminClient, http_mock: respx.MockRouter) -> None:
    http_mock.get(f"{API}/agent/status/pod-1").respond(404, json={"detail": "Not Found"})
    with pytest.raises(NotFoundError) as caught:
        client.agent_status("pod-1")
    assert "no agent API" in (caught.value.hint or "")


def test_defect_live_mode_without_confirm(client: AdminClient, http_mock: respx.MockRouter) -> None:
    http_mock.post(f"{API}/admin/mode").respond(
        200, json={"success": False, "error": "Cambiar a MODO LIVE requiere confirm=true",
                   "warning": "Live mode will process REAL payments", "current_mode": "sandbox"},
    )  # fmt: skip
    with pytest.raises(RefusedError) as caught:
        client.set_mode("live")
    assert "requiere confirm=true" in caught.value.message


def test_defect_create_without_ruc_from_ec(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.post(f"{API}/admin/public/subscription/create").respond(
        200, json={"success": False, "error": "RUC/Cédula es requerido para registros desde EC"}
    )
    with pytest.raises(RefusedError) as caught:
        client.create_subscription(m.SubscriptionRequest(email="a@b.co"))
    assert "RUC/Cédula es requerido" in caught.value.message


def test_create_without_an_api_key_in_the_answer_is_exit_5(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.post(f"{API}/admin/public/subscription/create").respond(
        200, json={"success": True, "subscription_id": "sub_1"}
    )
    with pytest.raises(RemoteResponseError):
        client.create_subscription(m.SubscriptionRequest(email="a@b.co"))


def test_pod_status_without_key_is_refused(
    client: AdminClient, http_mock: respx.MockRouter
) -> None:
    http_mock.get(f"{API}/admin/public/pod/status").respond(
        422, json={"detail": [{"type": "missing", "loc": ["query", "key"],
                               "msg": "Field required"}]},
    )  # fmt: skip
    with pytest.raises(RefusedError) as caught:
        client.pod_status(KEY)
    assert "key: Field required" in caught.value.message
