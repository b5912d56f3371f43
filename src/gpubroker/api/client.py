"""`AdminClient`: an httpx client for the hosted admin API (admin-api.md), one method per route.

Every path is under ``/api/v2``. Requests go through the client `gpubroker.http.make_client`
builds (timeouts, User-Agent, `RetryTransport`): GETs and the POSTs marked idempotent here
(validation, setting the mode or an agent budget) are retried on 429/502/503/504 and dropped
connections; every other POST (login, subscribe, pay, activate, start, destroy...) is sent
once, since a retry could repeat its effect. Redirects are not followed: a bearer token must
not travel to another address, and a moved API should be configured where it now lives.

Errors come from one decoder (`gpubroker.api.decode`); network failures and unreadable
payloads from `gpubroker.remote`, which also redacts the token, the API key and passwords
from every message. Secrets are only ever sent over HTTPS, or plain HTTP to this machine.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from gpubroker.api import models as m
from gpubroker.api.decode import (
    SERVICE,
    Call,
    error_for_response,
    error_for_soft_failure,
    soft_failure,
    unexpected_payload,
)
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
from gpubroker.http import DEADLINE_EXTENSION, IDEMPOTENT_EXTENSION
from gpubroker.remote import redact_error, translate_errors, translate_exception

API_PREFIX = "/api/v2"
PUBLIC = "admin/public"
MAX_BODY_BYTES = 20 * 1024 * 1024
DEFAULT_DEADLINE_S = 30.0

M = TypeVar("M", bound=m.ApiModel)

NOT_LOGGED_IN_HINT = "run `gpubroker auth login`, or set GPUBROKER_TOKEN"
PODS_HINT = "list the PODs with `gpubroker admin pods`"


def normalise_base_url(url: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash or ``/api/v2``.

    Raises:
        ConfigError: not an http(s) URL, or one carrying credentials, a query or a fragment.
    """
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"api_url must be an http:// or https:// URL, not {text[:80]!r}",
            hint="gpubroker config set api_url https://gpubroker.site",
        )
    if parts.username or parts.password:
        raise ConfigError("api_url must not contain a user name or password")
    if parts.query or parts.fragment:
        raise ConfigError("api_url must not contain a query or a fragment")
    path = parts.path.rstrip("/").removesuffix(API_PREFIX).rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def segment(value: str, what: str) -> str:
    """A user-given value as one URL path segment (``/`` and ``..`` cannot escape it).

    Raises:
        UsageError: empty.
    """
    text = (value or "").strip()
    if not text:
        raise UsageError(f"{what} must not be empty", param=what)
    return quote(text, safe="")


def _items(body: Any, key: str) -> list[Any]:
    """A list answer, bare or wrapped as ``{key: [...]}``."""
    if isinstance(body, dict):
        body = body.get(key)
    return m.dict_items(body)


class AdminClient:
    """The hosted admin API's routes as typed calls.

    Args:
        base_url: the API's base URL (the ``api_url`` setting); ``/api/v2`` is added.
        http: the HTTP client (from `gpubroker.http.make_client`); the caller closes it.
        token: the admin bearer token, for the ``/admin/`` and ``/agent/`` routes.
        secrets: more values never to show in an error (e.g. the subscription API key).
        deadline_s: the longest any one call may take, retries included.
    """

    def __init__(
        self,
        base_url: str,
        http: httpx.Client,
        *,
        token: str | None = None,
        secrets: Iterable[str | None] = (),
        deadline_s: float = DEFAULT_DEADLINE_S,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        self.http = http
        self.token = token
        self.secrets = [s for s in secrets if s]
        self.deadline_s = deadline_s

    # -- plumbing ---------------------------------------------------------------------------

    def _secure_enough(self, call: Call) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise RefusedError(
                f"{call.action}: refusing to send a secret over plain HTTP to {parts.hostname}",
                hint="use an https:// api_url (`gpubroker config set api_url https://...`)",
            )

    def request(
        self,
        method: str,
        path: str,
        call: Call,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = False,
        soft: bool = True,
        secret_values: Sequence[str | None] = (),
    ) -> Any:
        """Send one request and return its decoded JSON body.

        Args:
            method: HTTP method.
            path: the route under ``/api/v2/`` (user values already quoted).
            call: what the request is for (messages and hints).
            json_body: the JSON body.
            params: query parameters.
            idempotent: safe to retry (GETs always are).
            soft: turn a 2xx ``success: false`` body into an error.
            secret_values: values in this request never to show (API key, password).

        Raises:
            GpubrokerError: the decoded failure (see `gpubroker.api.decode`).
        """
        call = dataclasses.replace(call, base_url=self.base_url)
        secrets = [self.token, *self.secrets, *secret_values]
        headers = {}
        if call.auth == "token":
            if not self.token:
                raise MissingCredentialsError(
                    f"{call.action}: not logged in to the hosted API", hint=NOT_LOGGED_IN_HINT
                )
            headers["Authorization"] = f"Bearer {self.token}"
        if call.auth or any(secret_values):
            self._secure_enough(call)
        extensions: dict[str, Any] = {DEADLINE_EXTENSION: time.monotonic() + self.deadline_s}
        if idempotent:
            extensions[IDEMPOTENT_EXTENSION] = True
        url = f"{self.base_url}{API_PREFIX}/{path}"
        with translate_errors(SERVICE, secrets=secrets):
            try:
                response = self.http.request(
                    method,
                    url,
                    json=json_body,
                    params=params,
                    headers=headers,
                    extensions=extensions,
                    follow_redirects=False,
                )
            except httpx.TransportError as exc:
                raise self._transport_error(exc, call, method, idempotent) from None
            return self._decode(response, call, soft=soft)

    def _transport_error(
        self, exc: httpx.TransportError, call: Call, method: str, idempotent: bool
    ) -> GpubrokerError:
        mapped = translate_exception(exc, SERVICE) or RemoteError(SERVICE, "network error")
        detail = mapped.message.removeprefix(f"{SERVICE}: ")
        mapped.message = f"{call.action}: {self.base_url}: {detail}"
        mapped.args = (mapped.message,)
        if method != "GET" and not idempotent:
            mapped.hint = (
                "the request may have reached the server before the connection failed;"
                " check the state before retrying"
            )
        elif isinstance(mapped, RemoteTimeoutError):
            mapped.hint = "the hosted API is slow or unreachable; retry later"
        else:
            mapped.hint = (
                "check the network and api_url (`gpubroker config get api_url`, GPUBROKER_API_URL)"
            )
        return mapped

    def _decode(self, response: httpx.Response, call: Call, *, soft: bool) -> Any:
        status = response.status_code
        if 300 <= status < 400:
            target = urlsplit(response.headers.get("location", ""))
            where = f"{target.scheme}://{target.netloc}" if target.netloc else "another path"
            raise RemoteResponseError(
                SERVICE,
                f"{call.action}: the hosted API redirected to {where} (HTTP {status});"
                " gpubroker does not follow redirects with credentials",
                hint="set api_url to the address the API now lives at"
                " (`gpubroker config set api_url URL`)",
                status_code=status,
            )
        if len(response.content) > MAX_BODY_BYTES:
            raise unexpected_payload(call, f"{len(response.content)} bytes")
        if status >= 400:
            raise error_for_response(response, call)
        if not response.content.strip():
            raise unexpected_payload(call, "an empty answer")
        try:
            body = response.json()
        except ValueError:
            ctype = response.headers.get("content-type", "")
            is_html = "html" in ctype or response.text.lstrip().startswith("<")
            raise unexpected_payload(call, "an HTML page" if is_html else "text") from None
        if soft and soft_failure(body):
            raise error_for_soft_failure(body, call)
        return body

    def parse(self, model: type[M], body: Any, call: Call) -> M:
        """Validate a decoded body into ``model``.

        Raises:
            RemoteResponseError: the body is not an object, or does not fit at all.
        """
        if not isinstance(body, dict):
            raise unexpected_payload(self._at(call), f"a JSON {type(body).__name__}")
        try:
            with translate_errors(SERVICE, secrets=[self.token, *self.secrets]):
                return model.model_validate(body)
        except RemoteResponseError as exc:
            exc.message = f"{call.action}: {exc.message.removeprefix(f'{SERVICE}: ')}"
            exc.args = (exc.message,)
            raise

    def _at(self, call: Call) -> Call:
        return dataclasses.replace(call, base_url=self.base_url)

    def _get(self, model: type[M], path: str, call: Call, **kwargs: Any) -> M:
        return self.parse(model, self.request("GET", path, call, **kwargs), call)

    def _post(self, model: type[M], path: str, call: Call, **kwargs: Any) -> M:
        return self.parse(model, self.request("POST", path, call, **kwargs), call)

    def _list(self, model: type[M], path: str, key: str, call: Call, **kwargs: Any) -> list[M]:
        body = self.request("GET", path, call, **kwargs)
        if not isinstance(body, (dict, list)):
            raise unexpected_payload(self._at(call), "a JSON scalar")
        return [self.parse(model, item, call) for item in _items(body, key)]

    # -- public routes (§1.1) -----------------------------------------------------------------

    def health(self) -> m.Health:
        """``GET /admin/public/health``."""
        return self._get(m.Health, f"{PUBLIC}/health", Call("checking the API's health"))

    def geo_detect(self, force_country: str | None = None) -> m.Geo:
        """``GET /admin/public/geo/detect``: the caller's country and whether it needs a tax id.

        Args:
            force_country: ask for this ISO-2 country's rules instead of detecting.
        """
        params = {"force_country": force_country.upper()} if force_country else None
        return self._get(
            m.Geo, f"{PUBLIC}/geo/detect", Call("detecting the country"), params=params
        )

    def login(self, email: str, password: str) -> m.LoginResult:
        """``POST /admin/public/admin/login``; a result without a usable token is a failure.

        Raises:
            InvalidCredentialsError: refused, ``success: false``, a null token (the backend's
                known defect), or HTTP 500 (which the backend answers for a wrong password).
        """
        call = Call("logging in")
        try:
            body = self.request(
                "POST",
                f"{PUBLIC}/admin/login",
                call,
                json_body={"email": email, "password": password},
                soft=False,
                secret_values=[password],
            )
        except RemoteError as exc:
            if exc.status_code != 500:
                raise
            error = InvalidCredentialsError(
                "logging in: the server answered HTTP 500, which this backend does for a wrong"
                " e-mail or password (and for its own failures)",
                hint="check the e-mail and password; 5 failures lock the account for 15"
                " minutes. An administrator can give you a token for"
                " `gpubroker auth login --with-token`",
                service=SERVICE,
            )
            redact_error(error, [password, self.token])
            raise error from None
        result = self.parse(m.LoginResult, body, call)
        if result.success is False or (result.error and not result.token):
            raise InvalidCredentialsError(
                f"logging in: {result.error or 'refused'}",
                hint="check the e-mail and password (5 failures lock the account for 15 minutes)",
                service=SERVICE,
            )
        if not result.token:
            raise InvalidCredentialsError(
                "logging in: the server accepted the request but returned no token (a known"
                " backend defect: its login answer drops the token)",
                hint="ask an administrator for a token and run"
                " `gpubroker auth login --with-token`, or set GPUBROKER_TOKEN",
                service=SERVICE,
            )
        return result

    def create_subscription(self, request: m.SubscriptionRequest) -> m.SubscriptionCreated:
        """``POST /admin/public/subscription/create``; the answer carries the new API key."""
        call = Call("creating the subscription")
        result = self._post(
            m.SubscriptionCreated,
            f"{PUBLIC}/subscription/create",
            call,
            json_body=request.model_dump(),
        )
        if not result.api_key:
            raise unexpected_payload(self._at(call), "no API key for the new subscription")
        return result

    def activate(self, api_key: str) -> m.Activation:
        """``POST /admin/public/subscription/activate`` with the subscription's API key."""
        return self._post(
            m.Activation,
            f"{PUBLIC}/subscription/activate",
            Call("activating the subscription", auth="api_key"),
            json_body={"api_key": api_key},
            secret_values=[api_key],
        )

    def pod_status(self, api_key: str) -> m.PodStatus:
        """``GET /admin/public/pod/status?key=``: the subscription's POD and its progress."""
        return self._get(
            m.PodStatus,
            f"{PUBLIC}/pod/status",
            Call("reading the POD status", auth="api_key"),
            params={"key": api_key},
            secret_values=[api_key],
        )

    def _validate(self, route: str, field: str, value: str) -> m.RemoteIdentity:
        return self._post(
            m.RemoteIdentity,
            f"{PUBLIC}/validate/{route}",
            Call(f"validating the {route} on the server", body_as_query_defect=True),
            json_body={field: value},
            idempotent=True,
            soft=False,
        )

    def validate_ruc(self, ruc: str) -> m.RemoteIdentity:
        """``POST /admin/public/validate/ruc`` (the backend rejects JSON bodies: HTTP 422)."""
        return self._validate("ruc", "ruc", ruc)

    def validate_cedula(self, cedula: str) -> m.RemoteIdentity:
        """``POST /admin/public/validate/cedula`` (same defect)."""
        return self._validate("cedula", "cedula", cedula)

    def validate_identity(self, identifier: str) -> m.RemoteIdentity:
        """``POST /admin/public/validate/identity`` (same defect)."""
        return self._validate("identity", "identifier", identifier)

    def mode(self) -> m.Mode:
        """``GET /admin/public/mode``."""
        return self._get(m.Mode, f"{PUBLIC}/mode", Call("reading the mode"))

    def mode_config(self) -> m.ModeConfig:
        """``GET /admin/public/mode/config``."""
        return self._get(
            m.ModeConfig, f"{PUBLIC}/mode/config", Call("reading the mode configuration")
        )

    # -- payments (§1.3, kept by the contract) --------------------------------------------------

    def paypal_order(
        self, *, email: str, plan: str, amount_usd: float, tax_id: str = "", name: str = ""
    ) -> m.PayPalOrder:
        """``POST /admin/public/payment/paypal``: a PayPal order and its approval URL."""
        call = Call(
            "creating the PayPal order",
            not_found_hint="this server has no PayPal route (newer backends removed it);"
            " pay on the website, then record the payment with your administrator",
        )
        result = self._post(
            m.PayPalOrder,
            f"{PUBLIC}/payment/paypal",
            call,
            json_body={
                "email": email,
                "plan": plan,
                "amount": amount_usd,
                "ruc": tax_id,
                "name": name,
            },
        )
        if not result.order_id or not result.approval_url:
            raise unexpected_payload(self._at(call), "no order id or URL")
        return result

    def paypal_capture(self, order_id: str) -> m.PayPalCapture:
        """``POST /admin/public/payment/paypal/capture/{order_id}``."""
        call = Call(
            f"capturing PayPal order {order_id}",
            not_found_hint="check the order id that `gpubroker pay paypal` printed",
        )
        return self._post(
            m.PayPalCapture,
            f"{PUBLIC}/payment/paypal/capture/{segment(order_id, 'order_id')}",
            call,
        )

    def paypal_config(self) -> m.PayPalConfig:
        """``GET /admin/public/payment/paypal/status``: whether PayPal is configured."""
        return self._get(
            m.PayPalConfig, f"{PUBLIC}/payment/paypal/status", Call("reading the PayPal setup")
        )

    # -- plans (§2.2) -----------------------------------------------------------------------------

    def plans(self) -> list[m.BillingPlan]:
        """``GET /billing/plans`` (empty until the backend's plan table is seeded)."""
        return self._list(m.BillingPlan, "billing/plans", "plans", Call("listing the plans"))

    # -- admin routes (§1.2), bearer token ------------------------------------------------------

    def _admin(self, action: str, hint: str | None = None) -> Call:
        return Call(action, auth="token", not_found_hint=hint)

    def dashboard(self) -> m.Dashboard:
        """``GET /admin/dashboard``."""
        return self._get(m.Dashboard, "admin/dashboard", self._admin("reading the dashboard"))

    def pods(self) -> list[m.AdminPod]:
        """``GET /admin/pods``, newest first."""
        return self._list(m.AdminPod, "admin/pods", "pods", self._admin("listing the PODs"))

    def pod_start(self, pod_id: str) -> m.PodAction:
        """``POST /admin/pod/start`` (starts an ECS task: billable)."""
        segment(pod_id, "pod_id")
        return self._post(
            m.PodAction,
            "admin/pod/start",
            self._admin(f"starting POD {pod_id}", PODS_HINT),
            json_body={"pod_id": pod_id.strip()},
        )

    def pod_destroy(self, pod_id: str) -> m.PodAction:
        """``POST /admin/pod/destroy``."""
        segment(pod_id, "pod_id")
        return self._post(
            m.PodAction,
            "admin/pod/destroy",
            self._admin(f"destroying POD {pod_id}", PODS_HINT),
            json_body={"pod_id": pod_id.strip()},
        )

    def pod_metrics(self, pod_id: str) -> m.PodMetrics:
        """``GET /admin/pod/{pod_id}/metrics``."""
        return self._get(
            m.PodMetrics,
            f"admin/pod/{segment(pod_id, 'pod_id')}/metrics",
            self._admin(f"reading the metrics of POD {pod_id}", PODS_HINT),
        )

    def costs(self) -> m.Costs:
        """``GET /admin/costs`` (an estimate from Fargate list prices, not AWS billing)."""
        return self._get(m.Costs, "admin/costs", self._admin("reading the costs"))

    def customers(self) -> list[m.Customer]:
        """``GET /admin/customers``."""
        return self._list(
            m.Customer, "admin/customers", "customers", self._admin("listing the customers")
        )

    def billing(self) -> list[m.Transaction]:
        """``GET /admin/billing``: paid transactions."""
        return self._list(
            m.Transaction, "admin/billing", "transactions", self._admin("listing the billing")
        )

    def _known(self, listing: Callable[[], Iterable[str | None]], wanted: str) -> bool | None:
        """Whether ``wanted`` is in a listing (case-insensitive); None when it cannot be read."""
        try:
            return wanted.strip().lower() in {(v or "").lower() for v in listing()}
        except GpubrokerError:
            return None

    def _not_found_or(
        self,
        exc: RemoteError,
        what: str,
        listing: Callable[[], Iterable[str | None]],
        wanted: str,
        hint: str,
    ) -> GpubrokerError:
        """The backend answers 500 for an unknown customer or transaction (its 404 is built the
        wrong way round); a 500 for one the listing does not hold means "not found"."""
        if exc.status_code != 500:
            return exc
        known = self._known(listing, wanted)
        if known:
            return exc
        maybe = "" if known is False else " probably"
        error = NotFoundError(
            f"{what}{maybe} does not exist (the server answered HTTP 500, as it does for"
            " unknown ones)",
            hint=hint,
        )
        redact_error(error, [self.token, *self.secrets])
        return error

    def customer(self, email: str) -> m.CustomerDetail:
        """``GET /admin/customer/{email}``.

        Raises:
            NotFoundError: no such customer (also when the backend answers 500 for it).
        """
        hint = "list the customers with `gpubroker admin customers`"
        call = self._admin(f"reading customer {email}", hint)
        try:
            return self._get(m.CustomerDetail, f"admin/customer/{segment(email, 'email')}", call)
        except RemoteError as exc:
            listing = lambda: [c.email for c in self.customers()]  # noqa: E731
            raise self._not_found_or(exc, f"customer {email}", listing, email, hint) from None

    def transaction(self, transaction_id: str) -> m.Transaction:
        """``GET /admin/transaction/{id}``.

        Raises:
            NotFoundError: no such transaction (also when the backend answers 500 for it).
        """
        hint = "list the transactions with `gpubroker admin billing`"
        call = self._admin(f"reading transaction {transaction_id}", hint)
        path = f"admin/transaction/{segment(transaction_id, 'transaction_id')}"
        try:
            return self._get(m.Transaction, path, call)
        except RemoteError as exc:
            listing = lambda: [t.transaction_id for t in self.billing()]  # noqa: E731
            what = f"transaction {transaction_id}"
            raise self._not_found_or(exc, what, listing, transaction_id, hint) from None

    def resend_receipt(self, email: str) -> m.ActionResult:
        """``POST /admin/resend-receipt`` (the backend rejects JSON bodies: HTTP 422)."""
        segment(email, "email")
        call = Call(f"resending the receipt to {email}", auth="token", body_as_query_defect=True)
        return self._post(
            m.ActionResult, "admin/resend-receipt", call, json_body={"email": email.strip()}
        )

    def admin_mode(self) -> m.Mode:
        """``GET /admin/mode``: the mode and whether this admin may switch it."""
        return self._get(m.Mode, "admin/mode", self._admin("reading the mode"))

    def set_mode(self, mode: str, *, confirm: bool = False) -> m.ModeChange:
        """``POST /admin/mode``; ``live`` needs ``confirm`` (real payments and resources)."""
        return self._post(
            m.ModeChange,
            "admin/mode",
            self._admin(f"switching to {mode} mode"),
            json_body={"mode": mode, "confirm": confirm},
            idempotent=True,
        )

    # -- agent (§1.10) --------------------------------------------------------------------------

    def _agent(self, action: str) -> Call:
        return Call(
            action,
            auth="token",
            not_found_hint="start the POD's agent with `gpubroker agent start POD --budget USD`"
            " (some backends have no agent API at all)",
        )

    def agent_start(self, pod_id: str, budget_limit_usd: float) -> m.AgentAck:
        """``POST /agent/start``."""
        segment(pod_id, "pod_id")
        return self._post(
            m.AgentAck,
            "agent/start",
            self._agent(f"starting the agent of POD {pod_id}"),
            json_body={"pod_id": pod_id.strip(), "budget_limit": budget_limit_usd},
        )

    def agent_action(self, action: str, pod_id: str) -> m.AgentAck:
        """``POST /agent/stop``, ``/agent/pause`` or ``/agent/resume``."""
        if action not in ("stop", "pause", "resume"):
            raise UsageError(f"action must be stop, pause or resume, not {action!r}")
        segment(pod_id, "pod_id")
        verb = {"stop": "stopping", "pause": "pausing", "resume": "resuming"}[action]
        return self._post(
            m.AgentAck,
            f"agent/{action}",
            self._agent(f"{verb} the agent of POD {pod_id}"),
            json_body={"pod_id": pod_id.strip()},
        )

    def agent_status(self, pod_id: str) -> m.AgentStatus:
        """``GET /agent/status/{pod_id}``."""
        return self._get(
            m.AgentStatus,
            f"agent/status/{segment(pod_id, 'pod_id')}",
            self._agent(f"reading the agent of POD {pod_id}"),
        )

    def agent_decisions(
        self, pod_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[m.AgentDecision]:
        """``GET /agent/decisions/{pod_id}?status=&limit=``."""
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        return self._list(
            m.AgentDecision,
            f"agent/decisions/{segment(pod_id, 'pod_id')}",
            "decisions",
            self._agent(f"listing the agent decisions of POD {pod_id}"),
            params=params,
        )

    def agent_override(
        self, pod_id: str, decision_id: str, action: str, notes: str = ""
    ) -> m.AgentAck:
        """``POST /agent/decisions/{pod_id}/{decision_id}/override`` (approve or reject)."""
        if action not in ("approve", "reject"):
            raise UsageError(f"action must be approve or reject, not {action!r}")
        path = (
            f"agent/decisions/{segment(pod_id, 'pod_id')}/"
            f"{segment(decision_id, 'decision_id')}/override"
        )
        verb = "approving" if action == "approve" else "rejecting"
        return self._post(
            m.AgentAck,
            path,
            self._agent(f"{verb} decision {decision_id} of POD {pod_id}"),
            json_body={"action": action, "notes": notes},
        )

    def agent_budget(self, pod_id: str, new_limit_usd: float) -> m.AgentAck:
        """``POST /agent/budget``: set the agent's budget limit (idempotent)."""
        segment(pod_id, "pod_id")
        return self._post(
            m.AgentAck,
            "agent/budget",
            self._agent(f"setting the agent budget of POD {pod_id}"),
            json_body={"pod_id": pod_id.strip(), "new_limit": new_limit_usd},
            idempotent=True,
        )

    def agent_message(self, pod_id: str, message: str) -> m.AgentReply:
        """``POST /agent/message``."""
        segment(pod_id, "pod_id")
        return self._post(
            m.AgentReply,
            "agent/message",
            self._agent(f"messaging the agent of POD {pod_id}"),
            json_body={"pod_id": pod_id.strip(), "message": message},
        )


__all__ = ["API_PREFIX", "AdminClient", "is_loopback", "normalise_base_url", "segment"]
