"""A hosted admin API for tests: speaks the contract of shared/reference/admin-api.md on
127.0.0.1 (stdlib http.server in a thread), with the backend's known defects switchable.

The server implements the *intended* behaviour (activation works, a POD reaches ``running``
after a few polls) unless a defect is switched on in ``ContractServer.defects``:

- ``login_null_token``: login succeeds with ``"token": null`` (finding 2);
- ``login_500``: a wrong password answers an HTML 500 page (finding 3);
- ``activate_500``: activating a valid key answers 500 (finding 5);
- ``status_500``: ``pod/status`` answers a text/plain DEBUG traceback while provisioning;
- ``dict_body_422``: validate/* and resend-receipt answer 422 for a JSON body (finding 4);
- ``lookup_500``: unknown customer/transaction answer an HTML 500 page (finding 6);
- ``echo_secrets``: error pages echo the request's headers and query, as Django's DEBUG
  page does (for the leak test).

Every request is recorded in ``requests`` as ``(method, path, query, headers, body)``.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

PREFIX = "/api/v2"
PLAN_CONFIG = {
    "trial": (0.0, 1000),
    "basic": (20.0, 5000),
    "pro": (40.0, 10000),
    "corp": (99.0, 50000),
    "enterprise": (299.0, 200000),
}
PROGRESS = {"pending_activation": 0, "provisioning": 50, "running": 100, "active": 100}
ADMIN_EMAIL = "ops@gpubroker.test"
ADMIN_PASSWORD = "correct horse battery staple"


def make_token(email: str, role: str = "admin", *, exp_in_s: float = 900) -> str:
    def b64(obj: dict[str, Any]) -> str:
        raw = json.dumps(obj).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    now = int(time.time())
    header = b64({"alg": "HS256", "typ": "JWT", "jti": uuid.uuid4().hex})
    payload = b64(
        {
            "user_id": "u-1",
            "email": email,
            "role": role,
            "name": "Ops Person",
            "token_type": "access",
            "exp": now + int(exp_in_s),
            "iat": now,
            "nbf": now,
            "iss": "gpubroker-admin",
            "aud": "gpubroker-admin",
        }
    )
    return f"{header}.{payload}.{secrets.token_urlsafe(32)}"


@dataclass
class State:
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    mode: str = "sandbox"
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    seeded_plans: bool = False


class ContractServer:
    """The server and its switches (see the module doc)."""

    def __init__(self) -> None:
        self.defects: set[str] = set()
        self.state = State()
        self.detected_country = "EC"
        self.provisioning_polls = 2
        self.requests: list[tuple[str, str, dict[str, list[str]], dict[str, str], Any]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ContractServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def issue_token(self, email: str = ADMIN_EMAIL, **kwargs: Any) -> str:
        token = make_token(email, **kwargs)
        self.state.tokens.add(token)
        return token

    def approve(self, order_id: str) -> None:
        """What the buyer does on PayPal's approval page."""
        self.state.orders[order_id]["approved"] = True

    def api_paths(self) -> list[str]:
        return [path for _, path, _, _, _ in self.requests]

    def add_subscription(self, **fields: Any) -> dict[str, Any]:
        sub_id = f"sub_{uuid.uuid4().hex[:12]}"
        pod_id = fields.pop("pod_id", None) or f"pod-{uuid.uuid4().hex[:8]}"
        plan = fields.get("plan", "pro")
        row = {
            "subscription_id": sub_id,
            "api_key": f"gpuk_{uuid.uuid4().hex}",
            "email": "",
            "name": "",
            "ruc": "",
            "plan": plan,
            "status": "pending_activation",
            "token_limit": PLAN_CONFIG.get(plan, PLAN_CONFIG["pro"])[1],
            "tokens_used": 0,
            "pod_id": pod_id,
            "pod_url": f"https://{pod_id}.gpubroker.site",
            "transaction_id": "",
            "order_id": "",
            "amount_usd": 0.0,
            "payment_provider": "unknown",
            "created_at": "2026-01-08T10:00:00",
            "expires_at": "2026-02-07T10:00:00",
            "polls": 0,
        }
        row.update(fields)
        self.state.subscriptions[sub_id] = row
        return row

    # -- the handler --------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any, ctype: str = "application/json") -> None:
                data = (
                    json.dumps(body).encode() if ctype == "application/json" else str(body).encode()
                )
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _html_500(self) -> None:
                extra = ""
                if "echo_secrets" in server.defects:
                    extra = f"<pre>{self.headers}\n{self.path}</pre>"
                self._send(
                    500,
                    f"<!doctype html><html><head><title>Server Error (500)</title></head>"
                    f"<body><h1>Server Error (500)</h1>{extra}</body></html>",
                    "text/html",
                )

            def _traceback(self, exc: str) -> None:
                # Django quotes the path only; an echoing server quotes the query too.
                where = self.path if "echo_secrets" in server.defects else urlsplit(self.path).path
                lines = [exc.split(":")[0] + f" at {where}", exc, ""]
                if "echo_secrets" in server.defects:
                    lines += ["Request information:", f"GET: {self.path}", str(self.headers)]
                self._send(500, "\n".join(lines), "text/plain")

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if not raw:
                    return None
                try:
                    return json.loads(raw)
                except ValueError:
                    return raw.decode(errors="replace")

            def _authorised(self) -> bool:
                auth = self.headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ").strip()
                if token in server.state.tokens:
                    return True
                body: dict[str, Any] = {"detail": "Unauthorized"}
                if "echo_secrets" in server.defects:
                    body["detail"] = f"Unauthorized: {auth}"
                self._send(401, body)
                return False

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def _dispatch(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                body = self._body() if method == "POST" else None
                with server.lock:
                    server.requests.append((method, parts.path, query, dict(self.headers), body))
                    if parts.path == "/paypal/approve":
                        server.approve(query["token"][0])
                        self._send(200, "<html>approved</html>", "text/html")
                        return
                    if not parts.path.startswith(PREFIX + "/"):
                        self._send(404, "<h1>Not Found</h1>", "text/html")
                        return
                    route = parts.path[len(PREFIX) + 1 :]
                    segments = [unquote(s) for s in route.split("/")]
                    try:
                        self._route(method, segments, query, body)
                    except Exception as exc:  # a server bug: Django's 500 page
                        self._traceback(f"{type(exc).__name__}: {exc}")

            # -- routes ---------------------------------------------------------------------

            def _route(
                self, method: str, seg: list[str], query: dict[str, list[str]], body: Any
            ) -> None:
                key = (method, "/".join(seg[:3]))
                if seg[:2] == ["admin", "public"]:
                    self._public(method, seg[2:], query, body)
                elif seg[:2] == ["billing", "plans"] and method == "GET":
                    self._plans()
                elif seg[:1] == ["admin"]:
                    if self._authorised():
                        self._admin(method, seg[1:], body)
                elif seg[:1] == ["agent"]:
                    if self._authorised():
                        self._agent(method, seg[1:], query, body)
                else:
                    self._send(404, {"detail": f"Not Found: {key}"})

            def _plans(self) -> None:
                plans = []
                if server.state.seeded_plans:
                    plans = [
                        {
                            "id": name,
                            "name": name.title(),
                            "tier": "free" if name == "trial" else name,
                            "price_monthly": price,
                            "tokens_monthly": tokens,
                        }
                        for name, (price, tokens) in PLAN_CONFIG.items()
                    ]
                self._send(200, {"plans": plans, "default_plan": "free"})

            def _public(
                self, method: str, seg: list[str], query: dict[str, list[str]], body: Any
            ) -> None:
                state = server.state
                path = "/".join(seg)
                if (method, path) == ("GET", "health"):
                    self._send(200, {"status": "healthy", "service": "GPUBROKER Admin"})
                elif (method, path) == ("GET", "geo/detect"):
                    forced = (query.get("force_country") or [None])[0]
                    country = forced or server.detected_country
                    ec = country == "EC"
                    self._send(
                        200,
                        {
                            "geo": {
                                "country_code": country,
                                "country_name": "Ecuador" if ec else country,
                                "detected": not forced,
                                "source": "forced" if forced else "ipapi",
                            },
                            "validation": {
                                "requires_tax_id": ec,
                                "tax_id_name": "RUC/Cédula" if ec else None,
                                "tax_id_formats": ["ruc", "cedula"] if ec else [],
                                "language": "es" if ec else "en",
                            },
                            "show_tax_id": ec,
                            "tax_id_label": "RUC/Cédula" if ec else None,
                            "language": "es" if ec else "en",
                        },
                    )
                elif (method, path) == ("POST", "admin/login"):
                    self._login(body or {})
                elif (method, path) == ("POST", "subscription/create"):
                    self._create(body)
                elif (method, path) == ("POST", "subscription/activate"):
                    self._activate(body or {})
                elif (method, path) == ("GET", "pod/status"):
                    self._pod_status(query)
                elif method == "POST" and path in (
                    "validate/ruc",
                    "validate/cedula",
                    "validate/identity",
                ):
                    if "dict_body_422" in server.defects:
                        self._send(
                            422,
                            {
                                "detail": [
                                    {
                                        "type": "missing",
                                        "loc": ["query", "data"],
                                        "msg": "Field required",
                                    }
                                ]
                            },
                        )
                        return
                    value = next(iter((body or {}).values()), "")
                    ok = len(value) in (10, 13) and value[:2] <= "24"
                    self._send(
                        200,
                        {
                            "valid": ok,
                            "message": "RUC válido" if ok else "Código de provincia inválido",
                            "type": seg[-1],
                        },
                    )
                elif (method, path) == ("GET", "mode"):
                    self._send(200, self._mode())
                elif (method, path) == ("GET", "mode/config"):
                    self._send(
                        200,
                        {
                            "mode": state.mode,
                            "vault": {"enabled": False, "addr": None},
                            "stripe": {"configured": False},
                            "paypal": {"configured": True, "api_base": "https://api-m.sandbox"},
                            "gpu": {"mock": True, "cache_ttl": 30},
                            "email": {"backend": "console", "use_ses": False},
                            "domain": {"base": "gpubroker.site", "api": "api.gpubroker.site"},
                            "features": {"auto_confirm": True, "log_webhooks": False},
                        },
                    )
                elif (method, path) == ("POST", "payment/paypal"):
                    order_id = uuid.uuid4().hex[:17].upper()
                    state.orders[order_id] = {**(body or {}), "approved": False}
                    self._send(
                        200,
                        {
                            "success": True,
                            "order_id": order_id,
                            "payment_url": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}",
                        },
                    )
                elif method == "POST" and seg[:3] == ["payment", "paypal", "capture"]:
                    order = state.orders.get(seg[3])
                    if order is None:
                        self._send(200, {"success": False, "error": "Orden no encontrada"})
                    elif not order["approved"]:
                        self._send(
                            200,
                            {
                                "success": False,
                                "error": "La orden no fue aprobada por el"
                                " comprador (ORDER_NOT_APPROVED)",
                            },
                        )
                    else:
                        order["captured"] = True
                        order["transaction_id"] = order.get("transaction_id") or (
                            "8MC" + uuid.uuid4().hex[:14].upper()
                        )
                        self._send(
                            200,
                            {
                                "success": True,
                                "status": "COMPLETED",
                                "transaction_id": order["transaction_id"],
                                "order_id": seg[3],
                                "email": order.get("email"),
                                "plan": order.get("plan"),
                                "amount": order.get("amount"),
                                "ruc": order.get("ruc"),
                                "name": order.get("name"),
                            },
                        )
                elif (method, path) == ("GET", "payment/paypal/status"):
                    self._send(
                        200,
                        {
                            "configured": True,
                            "mode": "sandbox",
                            "client_id_set": True,
                            "client_secret_set": True,
                            "api_base": "https://api-m.sandbox.paypal.com",
                        },
                    )
                else:
                    self._send(404, {"detail": "Not Found"})

            def _mode(self) -> dict[str, Any]:
                return {
                    "mode": server.state.mode,
                    "is_live": server.state.mode == "live",
                    "vault_enabled": False,
                    "stripe_configured": False,
                    "paypal_configured": True,
                    "mock_gpu": True,
                    "email_backend": "console",
                    "domain": "gpubroker.site",
                    "geo": {
                        "force_country": None,
                        "deployment_region": "GLOBAL",
                        "is_ecuador": False,
                    },
                }

            def _login(self, body: dict[str, Any]) -> None:
                email, password = body.get("email"), body.get("password")
                if email == ADMIN_EMAIL and password == ADMIN_PASSWORD:
                    token = server.issue_token(email)
                    if "login_null_token" in server.defects:
                        token = None  # type: ignore[assignment]
                    self._send(
                        200,
                        {
                            "success": True,
                            "token": token,
                            "user": {
                                "id": "u-1",
                                "email": email,
                                "role": "admin",
                                "name": "Ops Person",
                            },
                            "error": None,
                        },
                    )
                elif "login_500" in server.defects:
                    self._html_500()
                else:
                    self._send(
                        200,
                        {
                            "success": False,
                            "token": None,
                            "user": None,
                            "error": "Credenciales inválidas",
                        },
                    )

            def _create(self, body: Any) -> None:
                if not isinstance(body, dict) or not body.get("email"):
                    self._send(
                        422,
                        {
                            "detail": [
                                {
                                    "type": "missing",
                                    "loc": ["body", "data", "email"],
                                    "msg": "Field required",
                                }
                            ]
                        },
                    )
                    return
                country = body.get("country_code") or server.detected_country
                if country == "EC" and not body.get("ruc"):
                    self._send(
                        200,
                        {
                            "success": False,
                            "error": "RUC/Cédula es requerido para registros desde EC",
                        },
                    )
                    return
                amount = float(body.get("amount") or 0)
                row = server.add_subscription(
                    email=body["email"],
                    name=body.get("name", ""),
                    ruc=body.get("ruc", ""),
                    plan=body.get("plan", "pro"),
                    transaction_id=body.get("transaction_id", ""),
                    order_id=body.get("order_id", ""),
                    amount_usd=amount,
                    payment_provider=body.get("payment_provider", "unknown"),
                )
                self._send(
                    200,
                    {
                        "success": True,
                        "subscription_id": row["subscription_id"],
                        "api_key": row["api_key"],
                        "pod_id": row["pod_id"],
                        "pod_url": row["pod_url"],
                        "status": "pending_activation",
                        "message": "Suscripción creada. Revise su correo para activar.",
                    },
                )

            def _by_key(self, key: str | None) -> dict[str, Any] | None:
                for row in server.state.subscriptions.values():
                    if key and row["api_key"] == key:
                        return row
                return None

            def _activate(self, body: dict[str, Any]) -> None:
                row = self._by_key(body.get("api_key"))
                if row is None:
                    error = "API Key inválida o expirada"
                    if "echo_secrets" in server.defects:
                        error += f": {body.get('api_key')}"
                    self._send(200, {"success": False, "error": error})
                    return
                if row["status"] not in ("pending_activation", "failed"):
                    self._send(
                        200, {"success": False, "error": "Suscripción ya está activa o en proceso"}
                    )
                    return
                if "activate_500" in server.defects:
                    self._traceback(
                        "ModuleNotFoundError: No module named 'gpubrokeradmin.apps.services.deploy'"
                    )
                    return
                row["status"] = "provisioning"
                self._send(
                    200,
                    {
                        "success": True,
                        "pod_id": row["pod_id"],
                        "pod_url": row["pod_url"],
                        "status": "provisioning",
                        "message": "Pod en aprovisionamiento",
                    },
                )

            def _pod_status(self, query: dict[str, list[str]]) -> None:
                if "key" not in query:
                    self._send(
                        422,
                        {
                            "detail": [
                                {
                                    "type": "missing",
                                    "loc": ["query", "key"],
                                    "msg": "Field required",
                                }
                            ]
                        },
                    )
                    return
                row = self._by_key(query["key"][0])
                if row is None:
                    self._send(200, {"success": False, "error": "API Key inválida o expirada"})
                    return
                if row["status"] == "provisioning":
                    row["polls"] += 1
                    if "status_500" in server.defects and row["polls"] == 1:
                        self._traceback("ModuleNotFoundError: No module named 'deploy'")
                        return
                    if row["polls"] > server.provisioning_polls:
                        row["status"] = "running"
                self._send(
                    200,
                    {
                        "success": True,
                        "status": row["status"],
                        "progress": PROGRESS.get(row["status"], 0),
                        "pod_id": row["pod_id"],
                        "pod_url": row["pod_url"],
                        "tokens_remaining": row["token_limit"] - row["tokens_used"],
                        "expires_at": row["expires_at"],
                    },
                )

            def _admin(self, method: str, seg: list[str], body: Any) -> None:
                subs = server.state.subscriptions
                path = "/".join(seg)
                by_pod = {r["pod_id"]: r for r in subs.values()}
                if (method, path) == ("GET", "dashboard"):
                    rows = list(subs.values())
                    paid = [r for r in rows if r["amount_usd"] > 0]
                    self._send(
                        200,
                        {
                            "pods": {
                                "active": sum(r["status"] in ("running", "active") for r in rows),
                                "total": len(rows),
                                "provisioning": sum(r["status"] == "provisioning" for r in rows),
                                "change": f"+{len(rows)}",
                                "list": [
                                    {
                                        "id": r["pod_id"],
                                        "email": r["email"],
                                        "plan": r["plan"],
                                        "status": r["status"],
                                    }
                                    for r in rows
                                ],
                            },
                            "revenue": {
                                "amount": sum(r["amount_usd"] for r in paid),
                                "monthly": [0.0] * 11 + [sum(r["amount_usd"] for r in paid)],
                                "change": "+23%",
                                "transactions": len(paid),
                                "average": (sum(r["amount_usd"] for r in paid) / len(paid))
                                if paid
                                else 0.0,
                                "growth": "+23%",
                            },
                            "plans": {
                                p: sum(r["plan"] == p for r in rows)
                                for p in ("trial", "pro", "corp")
                            },
                            "customers": {
                                "total": len({r["email"] for r in rows}),
                                "active": len(
                                    {
                                        r["email"]
                                        for r in rows
                                        if r["status"] in ("running", "active")
                                    }
                                ),
                                "change": "+1",
                                "recent": [
                                    {
                                        "name": r["name"] or r["email"].split("@")[0],
                                        "email": r["email"],
                                        "plan": r["plan"],
                                        "date": r["created_at"][:10],
                                    }
                                    for r in rows[:5]
                                ],
                            },
                            "alerts": {
                                "count": 1,
                                "items": [
                                    {
                                        "icon": "!",
                                        "title": "1 POD provisioning for over 10 minutes",
                                        "severity": "warning",
                                    }
                                ],
                            },
                            "activity": [
                                {
                                    "id": r["subscription_id"],
                                    "type": "registration",
                                    "icon": "+",
                                    "title": f"New customer {r['email']}",
                                    "description": r["plan"],
                                    "time": "hace 2 horas",
                                    "details": "",
                                }
                                for r in rows[:5]
                            ],
                        },
                    )
                elif (method, path) == ("GET", "pods"):
                    self._send(
                        200,
                        {
                            "success": True,
                            "pods": [
                                {
                                    "id": r["pod_id"],
                                    "subscription_id": r["subscription_id"],
                                    "email": r["email"],
                                    "name": r["name"],
                                    "plan": r["plan"],
                                    "status": r["status"],
                                    "pod_url": r["pod_url"],
                                    "created_at": r["created_at"],
                                    "tokens_used": r["tokens_used"],
                                    "token_limit": r["token_limit"],
                                }
                                for r in subs.values()
                            ],
                        },
                    )
                elif method == "POST" and path in ("pod/start", "pod/destroy"):
                    row = by_pod.get((body or {}).get("pod_id"))
                    if row is None:
                        self._send(200, {"success": False, "error": "Pod not found"})
                    elif path == "pod/start":
                        row["status"] = "provisioning"
                        self._send(
                            200,
                            {
                                "success": True,
                                "message": f"Pod {row['pod_id']} iniciando",
                                "status": "provisioning",
                                "task_arn": f"arn:aws:ecs:us-east-1:mock:task/{row['pod_id']}",
                            },
                        )
                    else:
                        row["status"] = "destroyed"
                        self._send(
                            200,
                            {
                                "success": True,
                                "message": f"Pod {row['pod_id']} destruido",
                                "status": "destroyed",
                            },
                        )
                elif method == "GET" and seg[:1] == ["pod"] and seg[-1:] == ["metrics"]:
                    self._send(
                        200,
                        {
                            "success": True,
                            "pod_id": seg[1],
                            "public_ip": "10.0.0.1",
                            "private_ip": "172.31.0.5",
                            "cpu_utilization": 25.5,
                            "memory_utilization": 45.2,
                            "uptime_seconds": 3600,
                            "task_arn": "arn:aws:ecs:us-east-1:mock:task/x",
                            "status": "running",
                        },
                    )
                elif (method, path) == ("GET", "costs"):
                    active = sum(
                        r["status"] in ("running", "active", "provisioning") for r in subs.values()
                    )
                    revenue = sum(r["amount_usd"] for r in subs.values())
                    aws = round(active * 8.8866, 2)
                    profit = revenue - (aws + 10)
                    self._send(
                        200,
                        {
                            "success": True,
                            "aws_costs": {
                                "total": aws,
                                "total_hours": active * 720,
                                "pod_count": active,
                            },
                            "profitability": {
                                "revenue": revenue,
                                "aws_costs": aws,
                                "other_costs": 10,
                                "total_costs": aws + 10,
                                "profit": profit,
                                "margin_percent": round(profit / revenue * 100, 1)
                                if revenue
                                else 0,
                                "is_profitable": profit > 0,
                            },
                            "per_pod_estimate": {
                                "vcpu": 0.25,
                                "memory_gb": 0.5,
                                "monthly_cost": 8.89,
                            },
                            "active_pods": active,
                            "total_revenue": revenue,
                            "last_updated": "2026-01-08T10:00:00",
                        },
                    )
                elif (method, path) == ("GET", "customers"):
                    self._send(
                        200,
                        {
                            "success": True,
                            "customers": [
                                {
                                    "email": r["email"],
                                    "name": r["name"] or r["email"].split("@")[0],
                                    "plan": r["plan"],
                                    "status": r["status"],
                                    "pod_id": r["pod_id"],
                                    "ruc": r["ruc"],
                                    "created_at": r["created_at"],
                                    "total_paid": r["amount_usd"],
                                }
                                for r in subs.values()
                            ],
                        },
                    )
                elif method == "GET" and seg[:1] == ["customer"]:
                    rows = [r for r in subs.values() if r["email"] == seg[1]]
                    if not rows:
                        if "lookup_500" in server.defects:
                            self._html_500()
                        else:
                            self._send(404, {"error": "Cliente no encontrado"})
                        return
                    r = rows[-1]
                    self._send(
                        200,
                        {
                            "email": r["email"],
                            "name": r["name"] or "Cliente",
                            "plan": r["plan"],
                            "status": r["status"],
                            "pod_id": r["pod_id"],
                            "pod_status": r["status"],
                            "ruc": r["ruc"],
                            "created_at": r["created_at"],
                            "total_paid": r["amount_usd"],
                            "payments": [
                                {
                                    "amount": r["amount_usd"],
                                    "date": r["created_at"],
                                    "method": "PayPal",
                                    "description": f"Plan {r['plan'].upper()}",
                                }
                            ],
                        },
                    )
                elif (method, path) == ("GET", "billing"):
                    self._send(
                        200,
                        {
                            "success": True,
                            "transactions": [
                                self._tx(r) for r in subs.values() if r["amount_usd"] > 0
                            ],
                        },
                    )
                elif method == "GET" and seg[:1] == ["transaction"]:
                    rows = [r for r in subs.values() if self._tx(r)["id"] == seg[1]]
                    if not rows:
                        if "lookup_500" in server.defects:
                            self._html_500()
                        else:
                            self._send(404, {"error": "Transacción no encontrada"})
                        return
                    tx = self._tx(rows[0])
                    self._send(200, {"transaction_id": tx.pop("id"), **tx})
                elif (method, path) == ("POST", "resend-receipt"):
                    if "dict_body_422" in server.defects:
                        self._send(
                            422,
                            {
                                "detail": [
                                    {
                                        "type": "missing",
                                        "loc": ["query", "data"],
                                        "msg": "Field required",
                                    }
                                ]
                            },
                        )
                        return
                    self._send(
                        200,
                        {
                            "success": True,
                            "message": f"Receipt sent to {(body or {}).get('email')}",
                        },
                    )
                elif (method, path) == ("GET", "mode"):
                    self._send(200, {**self._mode(), "can_switch": True})
                elif (method, path) == ("POST", "mode"):
                    mode = (body or {}).get("mode")
                    if mode not in ("sandbox", "live"):
                        self._send(200, {"success": False, "error": f"Modo inválido: {mode}"})
                    elif mode == "live" and not (body or {}).get("confirm"):
                        self._send(
                            200,
                            {
                                "success": False,
                                "error": "Cambiar a MODO LIVE requiere confirm=true",
                                "warning": "Live mode will process REAL payments and"
                                " provision REAL resources!",
                                "current_mode": server.state.mode,
                            },
                        )
                    else:
                        old, server.state.mode = server.state.mode, mode
                        self._send(
                            200,
                            {
                                "success": True,
                                "message": f"Modo cambiado a {mode}",
                                "old_mode": old,
                                "new_mode": mode,
                                "admin": ADMIN_EMAIL,
                                "status": self._mode(),
                            },
                        )
                else:
                    self._send(404, {"detail": "Not Found"})

            @staticmethod
            def _tx(r: dict[str, Any]) -> dict[str, Any]:
                return {
                    "id": r["transaction_id"] or f"TXN-{r['subscription_id'][:8]}",
                    "email": r["email"],
                    "name": r["name"],
                    "plan": r["plan"],
                    "amount": r["amount_usd"],
                    "method": r["payment_provider"],
                    "status": "completed",
                    "pod_id": r["pod_id"],
                    "order_id": r["order_id"],
                    "created_at": r["created_at"],
                    "date": r["created_at"][:10],
                }

            def _agent(
                self, method: str, seg: list[str], query: dict[str, list[str]], body: Any
            ) -> None:
                agents = server.state.agents
                body = body or {}
                if method == "POST" and seg == ["start"]:
                    agents[body["pod_id"]] = {
                        "status": "running",
                        "budget_limit": body["budget_limit"],
                        "decisions": [
                            {
                                "id": "dec-1",
                                "action_type": "scale",
                                "status": "pending",
                                "description": "Scale to 2 GPUs for the batch job",
                                "estimated_cost": 4.5,
                                "created_at": "2026-01-08T10:00:00",
                            }
                        ],
                    }
                    self._send(200, {"success": True, "status": "running", "session_id": "sess-1"})
                elif method == "POST" and seg[0] in (
                    "stop",
                    "pause",
                    "resume",
                    "budget",
                    "message",
                ):
                    agent = agents.get(body.get("pod_id"))
                    if agent is None:
                        self._send(404, {"detail": "Agent session not found"})
                    elif seg[0] == "budget":
                        agent["budget_limit"] = body["new_limit"]
                        self._send(200, {"success": True, "budget_limit": body["new_limit"]})
                    elif seg[0] == "message":
                        self._send(
                            200,
                            {
                                "success": True,
                                "message_id": "m-1",
                                "response": f"Agent Zero received: {body['message']}",
                                "tokens_used": 12,
                            },
                        )
                    else:
                        agent["status"] = {
                            "stop": "stopped",
                            "pause": "paused",
                            "resume": "running",
                        }[seg[0]]
                        self._send(200, {"success": True, "status": agent["status"]})
                elif method == "GET" and seg[0] == "status":
                    agent = agents.get(seg[1])
                    if agent is None:
                        self._send(404, {"detail": "Agent session not found"})
                        return
                    used = sum(
                        d["estimated_cost"] for d in agent["decisions"] if d["status"] == "executed"
                    )
                    self._send(
                        200,
                        {
                            "status": agent["status"],
                            "pod_id": seg[1],
                            "budget_limit": agent["budget_limit"],
                            "budget_used": used,
                            "budget_remaining": agent["budget_limit"] - used,
                            "budget_percentage": used / agent["budget_limit"] * 100,
                            "decisions_count": len(agent["decisions"]),
                            "pending_decisions": sum(
                                d["status"] == "pending" for d in agent["decisions"]
                            ),
                            "session_id": "sess-1",
                        },
                    )
                elif method == "GET" and seg[0] == "decisions":
                    agent = agents.get(seg[1], {"decisions": []})
                    wanted = (query.get("status") or [None])[0]
                    self._send(
                        200, [d for d in agent["decisions"] if wanted in (None, d["status"])]
                    )
                elif method == "POST" and seg[0] == "decisions" and seg[-1] == "override":
                    agent = agents.get(seg[1], {"decisions": []})
                    found = [d for d in agent["decisions"] if d["id"] == seg[2]]
                    if not found:
                        self._send(404, {"detail": "Decision not found"})
                        return
                    found[0]["status"] = (
                        "executed" if body.get("action") == "approve" else "rejected"
                    )
                    self._send(
                        200, {"success": True, "decision_id": seg[2], "status": found[0]["status"]}
                    )
                else:
                    self._send(404, {"detail": "Not Found"})

        return Handler


@contextmanager
def running() -> Iterator[ContractServer]:
    server = ContractServer().start()
    try:
        yield server
    finally:
        server.stop()
