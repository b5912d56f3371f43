"""Payload models of the hosted admin API, tolerant of what the backend really sends.

The backend's answers drift from its schema (admin-api.md lists the defects), so every field
here is optional, unknown keys are ignored, numbers may arrive as strings, a list may arrive as
null, and a nested object may be missing. Server text is untrusted: control characters and
bidi overrides are dropped and long values clipped before anything is stored or shown, and
non-finite numbers (NaN, Infinity) become None.

Field names carry units (``amount_usd``, ``uptime_s``, ``cpu_percent``); the backend's own
names are accepted as aliases. Secrets (the login token, a new subscription's API key) are
excluded from ``model_dump`` and ``repr``, so they never reach JSON output or a log line.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from gpubroker.textfmt import sanitize

MAX_TEXT = 500
_STRIP = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def clean_text(value: Any) -> str | None:
    """Untrusted server text made safe to store and print (None for non-text values)."""
    if value is None or isinstance(value, (dict, list, tuple, set)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return None
    # Whole escape sequences go first ("\x1b[31m" leaves nothing behind), then any other
    # control, format or private-use character.
    text = _STRIP.sub("", sanitize(str(value)))
    text = "".join(
        " " if ch in "\t\n\r" else ch
        for ch in text
        if ch in "\t\n\r" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )
    text = " ".join(text.split())
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return text or None


def finite_number(value: Any) -> float | None:
    """A finite float from a number or a numeric string (``"$1,234.50"``); else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip().replace(",", "").removeprefix("$").removesuffix("%").strip()
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def whole_number(value: Any) -> int | None:
    number = finite_number(value)
    return None if number is None else int(number)


def flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and math.isfinite(value):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off", ""):
            return False
    return None


def dict_items(value: Any) -> list[Any]:
    """A list of objects: null → [], non-objects dropped."""
    if not isinstance(value, (list, tuple)):
        return []
    return [item for item in value if isinstance(item, dict)]


def object_or_empty(value: Any) -> Any:
    return value if isinstance(value, (dict, BaseModel)) else {}


def text_items(value: Any) -> list[str]:
    if not isinstance(value, (list, tuple)):
        return []
    return [t for t in (clean_text(v) for v in value) if t]


def numbers(value: Any) -> list[float]:
    if not isinstance(value, (list, tuple)):
        return []
    return [n if n is not None else 0.0 for n in (finite_number(v) for v in value)]


def country_code(value: Any) -> str | None:
    text = clean_text(value)
    if text and re.fullmatch(r"[A-Za-z]{2}", text):
        return text.upper()
    return None


def flags(value: Any) -> dict[str, bool]:
    if not isinstance(value, dict):
        return {}
    out = {}
    for key, raw in value.items():
        name, state = clean_text(key), flag(raw)
        if name and state is not None:
            out[name] = state
    return out


def counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    out = {}
    for key, raw in value.items():
        name, number = clean_text(key), whole_number(raw)
        if name and number is not None:
            out[name] = number
    return out


Text = Annotated[str | None, BeforeValidator(clean_text)]
Number = Annotated[float | None, BeforeValidator(finite_number)]
Whole = Annotated[int | None, BeforeValidator(whole_number)]
Flag = Annotated[bool | None, BeforeValidator(flag)]
TextList = Annotated[list[str], BeforeValidator(text_items)]
Country = Annotated[str | None, BeforeValidator(country_code)]


def _alias(*names: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(*names))


def _list_alias(*names: str) -> Any:
    return Field(default_factory=list, validation_alias=AliasChoices(*names))


class ApiModel(BaseModel):
    """Base of every payload model: unknown keys ignored, field names or aliases accepted."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Health(ApiModel):
    """``GET /admin/public/health``."""

    status: Text = None
    service: Text = None


class Geo(ApiModel):
    """``GET /admin/public/geo/detect``: the caller's country and its tax-id rule."""

    country_code: Country = None
    country_name: Text = None
    city: Text = None
    detected: Flag = None
    source: Text = None
    is_private: Flag = None
    requires_tax_id: Flag = None
    tax_id_label: Text = None
    tax_id_formats: TextList = Field(default_factory=list)
    language: Text = None

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if not isinstance(data, dict) or ("geo" not in data and "validation" not in data):
            return data
        geo: dict[str, Any] = data["geo"] if isinstance(data.get("geo"), dict) else {}
        rule: dict[str, Any] = (
            data["validation"] if isinstance(data.get("validation"), dict) else {}
        )
        requires = rule.get("requires_tax_id")
        return {
            **geo,
            "requires_tax_id": requires if requires is not None else data.get("show_tax_id"),
            "tax_id_label": data.get("tax_id_label") or rule.get("tax_id_name"),
            "tax_id_formats": rule.get("tax_id_formats"),
            "language": data.get("language") or rule.get("language"),
        }


class AdminUser(ApiModel):
    id: Text = None
    email: Text = None
    role: Text = None
    name: Text = None


class LoginResult(ApiModel):
    """``POST /admin/public/admin/login``; the token arrives as ``token`` or ``access_token``."""

    success: Flag = None
    token: str | None = Field(default=None, exclude=True, repr=False)
    user: Annotated[AdminUser | None, BeforeValidator(lambda v: v or None)] = None
    error: Text = None
    expires_in_s: Whole = _alias("expires_in", "expires_in_s")

    @model_validator(mode="before")
    @classmethod
    def _either_token(cls, data: Any) -> Any:
        if isinstance(data, dict):
            token = data.get("token") or data.get("access_token")
            data = {**data, "token": token if isinstance(token, str) and token.strip() else None}
            if not isinstance(data.get("user"), dict):
                data["user"] = None
        return data


class SubscriptionRequest(BaseModel):
    """The body of ``POST /admin/public/subscription/create``."""

    email: str
    plan: str = "pro"
    ruc: str = ""
    card_last4: str = "****"
    transaction_id: str = ""
    order_id: str = ""
    amount: float = 0.0
    payment_provider: str = "none"
    name: str = ""
    country_code: str = ""


class SubscriptionCreated(ApiModel):
    """``POST /admin/public/subscription/create``; ``api_key`` is secret (never dumped)."""

    success: Flag = None
    subscription_id: Text = None
    api_key: str | None = Field(default=None, exclude=True, repr=False)
    pod_id: Text = None
    pod_url: Text = None
    status: Text = None
    message: Text = None


class Activation(ApiModel):
    """``POST /admin/public/subscription/activate``."""

    success: Flag = None
    pod_id: Text = None
    pod_url: Text = None
    status: Text = None
    message: Text = None


class PodStatus(ApiModel):
    """``GET /admin/public/pod/status?key=``."""

    success: Flag = None
    status: Text = None
    progress_percent: Whole = _alias("progress", "progress_percent")
    pod_id: Text = None
    pod_url: Text = None
    tokens_remaining: Whole = None
    expires_at: Text = None


class RemoteIdentity(ApiModel):
    """``POST /admin/public/validate/{ruc,cedula,identity}``."""

    valid: Flag = None
    message: Text = None
    kind: Text = _alias("type", "kind")


class Mode(ApiModel):
    """``GET /admin/public/mode`` and ``GET /admin/mode`` (which adds ``can_switch``)."""

    mode: Text = None
    is_live: Flag = None
    vault_enabled: Flag = None
    stripe_configured: Flag = None
    paypal_configured: Flag = None
    mock_gpu: Flag = None
    email_backend: Text = None
    domain: Text = None
    force_country: Text = None
    deployment_region: Text = None
    is_ecuador: Flag = None
    can_switch: Flag = None

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("geo"), dict):
            data = {**data["geo"], **{k: v for k, v in data.items() if k != "geo"}}
        return data


class ModeConfig(ApiModel):
    """``GET /admin/public/mode/config``, flattened."""

    mode: Text = None
    vault_enabled: Flag = None
    vault_addr: Text = None
    stripe_configured: Flag = None
    paypal_configured: Flag = None
    paypal_api_base: Text = None
    mock_gpu: Flag = None
    gpu_cache_ttl_s: Number = None
    email_backend: Text = None
    email_use_ses: Flag = None
    domain_base: Text = None
    domain_api: Text = None
    features: Annotated[dict[str, bool], BeforeValidator(flags)] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data

        def part(name: str) -> dict[str, Any]:
            value = data.get(name)
            return value if isinstance(value, dict) else {}

        return {
            "mode": data.get("mode"),
            "vault_enabled": part("vault").get("enabled"),
            "vault_addr": part("vault").get("addr"),
            "stripe_configured": part("stripe").get("configured"),
            "paypal_configured": part("paypal").get("configured"),
            "paypal_api_base": part("paypal").get("api_base"),
            "mock_gpu": part("gpu").get("mock"),
            "gpu_cache_ttl_s": part("gpu").get("cache_ttl"),
            "email_backend": part("email").get("backend"),
            "email_use_ses": part("email").get("use_ses"),
            "domain_base": part("domain").get("base"),
            "domain_api": part("domain").get("api"),
            "features": data.get("features"),
        }


class ModeChange(ApiModel):
    """``POST /admin/mode``."""

    success: Flag = None
    message: Text = None
    old_mode: Text = None
    new_mode: Text = None
    admin: Text = None
    warning: Text = None


class PayPalOrder(ApiModel):
    """``POST /admin/public/payment/paypal``: the order and where the buyer approves it."""

    success: Flag = None
    order_id: Text = None
    approval_url: Text = _alias("payment_url", "approval_url", "approve_url")


class PayPalCapture(ApiModel):
    """``POST /admin/public/payment/paypal/capture/{order_id}``."""

    success: Flag = None
    status: Text = None
    transaction_id: Text = None
    order_id: Text = None
    email: Text = None
    plan: Text = None
    amount_usd: Number = _alias("amount", "amount_usd")
    tax_id: Text = _alias("ruc", "tax_id")
    name: Text = None


class PayPalConfig(ApiModel):
    """``GET /admin/public/payment/paypal/status``."""

    configured: Flag = None
    mode: Text = None
    client_id_set: Flag = None
    client_secret_set: Flag = None
    api_base: Text = None


class BillingPlan(ApiModel):
    """One row of ``GET /billing/plans`` in the shape of the built-in plan table."""

    plan: Text = None
    display_name: Text = _alias("name", "display_name")
    price_usd_month: Number = _alias("price_monthly", "price_usd_month")
    tokens: Whole = _alias("tokens_monthly", "tokens")
    description: Text = None
    is_popular: Flag = None

    @model_validator(mode="before")
    @classmethod
    def _plan_from_tier(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("plan"):
            # The billing app calls the free tier "free"; subscriptions call it "trial".
            tier = clean_text(data.get("tier")) or clean_text(data.get("id"))
            data = {**data, "plan": "trial" if (tier or "").lower() == "free" else tier}
        return data


# --- operator views ------------------------------------------------------------------------


class DashboardPod(ApiModel):
    pod_id: Text = _alias("id", "pod_id")
    email: Text = None
    plan: Text = None
    status: Text = None


class PodsSummary(ApiModel):
    active: Whole = None
    total: Whole = None
    provisioning: Whole = None
    change: Text = None
    pods: Annotated[list[DashboardPod], BeforeValidator(dict_items)] = _list_alias("list", "pods")


class Revenue(ApiModel):
    amount_usd: Number = _alias("amount", "amount_usd")
    monthly_usd: Annotated[list[float], BeforeValidator(numbers)] = _list_alias(
        "monthly", "monthly_usd"
    )
    change: Text = None
    transactions: Whole = None
    average_usd: Number = _alias("average", "average_usd")
    growth: Text = None


class RecentCustomer(ApiModel):
    name: Text = None
    email: Text = None
    plan: Text = None
    date: Text = None


class CustomersSummary(ApiModel):
    total: Whole = None
    active: Whole = None
    change: Text = None
    recent: Annotated[list[RecentCustomer], BeforeValidator(dict_items)] = Field(
        default_factory=list
    )


class Alert(ApiModel):
    title: Text = None
    severity: Text = None
    icon: Text = None


class Alerts(ApiModel):
    count: Whole = None
    items: Annotated[list[Alert], BeforeValidator(dict_items)] = Field(default_factory=list)


class Activity(ApiModel):
    id: Text = None
    type: Text = None
    title: Text = None
    description: Text = None
    time: Text = None
    details: Text = None


class Dashboard(ApiModel):
    """``GET /admin/dashboard``. Its ``change``/``growth`` figures are hard-coded upstream."""

    pods: Annotated[PodsSummary, BeforeValidator(object_or_empty)] = Field(
        default_factory=PodsSummary
    )
    revenue: Annotated[Revenue, BeforeValidator(object_or_empty)] = Field(default_factory=Revenue)
    plans: Annotated[dict[str, int], BeforeValidator(counts)] = Field(default_factory=dict)
    customers: Annotated[CustomersSummary, BeforeValidator(object_or_empty)] = Field(
        default_factory=CustomersSummary
    )
    alerts: Annotated[Alerts, BeforeValidator(object_or_empty)] = Field(default_factory=Alerts)
    activity: Annotated[list[Activity], BeforeValidator(dict_items)] = Field(default_factory=list)


class AdminPod(ApiModel):
    """One row of ``GET /admin/pods``."""

    pod_id: Text = _alias("id", "pod_id")
    subscription_id: Text = None
    email: Text = None
    name: Text = None
    plan: Text = None
    status: Text = None
    pod_url: Text = None
    created_at: Text = None
    tokens_used: Whole = None
    token_limit: Whole = None


class PodAction(ApiModel):
    """``POST /admin/pod/start`` and ``/admin/pod/destroy``."""

    success: Flag = None
    message: Text = None
    status: Text = None
    task_arn: Text = None


class PodMetrics(ApiModel):
    """``GET /admin/pod/{pod_id}/metrics``."""

    success: Flag = None
    pod_id: Text = None
    status: Text = None
    public_ip: Text = None
    private_ip: Text = None
    cpu_percent: Number = _alias("cpu_utilization", "cpu_percent")
    memory_percent: Number = _alias("memory_utilization", "memory_percent")
    uptime_s: Number = _alias("uptime_seconds", "uptime_s")
    task_arn: Text = None


class AwsCosts(ApiModel):
    total_usd: Number = _alias("total", "total_usd")
    total_hours: Number = None
    pod_count: Whole = None


class Profitability(ApiModel):
    revenue_usd: Number = _alias("revenue", "revenue_usd")
    aws_costs_usd: Number = _alias("aws_costs", "aws_costs_usd")
    other_costs_usd: Number = _alias("other_costs", "other_costs_usd")
    total_costs_usd: Number = _alias("total_costs", "total_costs_usd")
    profit_usd: Number = _alias("profit", "profit_usd")
    margin_percent: Number = None
    is_profitable: Flag = None


class PodEstimate(ApiModel):
    vcpu: Number = None
    memory_gib: Number = _alias("memory_gb", "memory_gib")
    monthly_cost_usd: Number = _alias("monthly_cost", "monthly_cost_usd")


class Costs(ApiModel):
    """``GET /admin/costs``: an arithmetic estimate (Fargate list prices), not AWS billing."""

    aws: Annotated[AwsCosts, BeforeValidator(object_or_empty)] = Field(
        default_factory=AwsCosts, validation_alias=AliasChoices("aws_costs", "aws")
    )
    profitability: Annotated[Profitability, BeforeValidator(object_or_empty)] = Field(
        default_factory=Profitability
    )
    per_pod_estimate: Annotated[PodEstimate, BeforeValidator(object_or_empty)] = Field(
        default_factory=PodEstimate
    )
    active_pods: Whole = None
    total_revenue_usd: Number = _alias("total_revenue", "total_revenue_usd")
    last_updated: Text = None


class Customer(ApiModel):
    """One row of ``GET /admin/customers``."""

    email: Text = None
    name: Text = None
    plan: Text = None
    status: Text = None
    pod_id: Text = None
    tax_id: Text = _alias("ruc", "tax_id")
    created_at: Text = None
    total_paid_usd: Number = _alias("total_paid", "total_paid_usd")


class Payment(ApiModel):
    amount_usd: Number = _alias("amount", "amount_usd")
    date: Text = None
    method: Text = None
    description: Text = None


class CustomerDetail(Customer):
    """``GET /admin/customer/{email}``."""

    pod_status: Text = None
    payments: Annotated[list[Payment], BeforeValidator(dict_items)] = Field(default_factory=list)


class Transaction(ApiModel):
    """One row of ``GET /admin/billing``, or ``GET /admin/transaction/{id}``."""

    transaction_id: Text = _alias("transaction_id", "id")
    email: Text = None
    name: Text = None
    plan: Text = None
    amount_usd: Number = _alias("amount", "amount_usd")
    method: Text = None
    status: Text = None
    pod_id: Text = None
    order_id: Text = None
    created_at: Text = None
    date: Text = None


class ActionResult(ApiModel):
    """A plain ``{"success", "message"}`` answer (``/admin/resend-receipt``)."""

    success: Flag = None
    message: Text = None


# --- agent ---------------------------------------------------------------------------------


class AgentStatus(ApiModel):
    """``GET /agent/status/{pod_id}``."""

    pod_id: Text = None
    status: Text = None
    budget_limit_usd: Number = _alias("budget_limit", "budget_limit_usd")
    budget_used_usd: Number = _alias("budget_used", "budget_used_usd")
    budget_remaining_usd: Number = _alias("budget_remaining", "budget_remaining_usd")
    budget_percent: Number = _alias("budget_percentage", "budget_percent")
    decisions_count: Whole = None
    pending_decisions: Whole = None
    session_id: Text = None


class AgentDecision(ApiModel):
    """One decision of ``GET /agent/decisions/{pod_id}`` (its shape is not documented)."""

    decision_id: Text = _alias("id", "decision_id")
    action_type: Text = _alias("action_type", "decision_type", "type")
    status: Text = None
    description: Text = _alias("description", "reasoning", "summary")
    estimated_cost_usd: Number = _alias("estimated_cost", "estimated_cost_usd")
    actual_cost_usd: Number = _alias("actual_cost", "actual_cost_usd")
    confidence: Number = _alias("confidence", "confidence_score")
    created_at: Text = None


class AgentAck(ApiModel):
    """The answer of an agent action (start, stop, pause, resume, budget, override)."""

    success: Flag = None
    status: Text = None
    message: Text = None
    pod_id: Text = None
    session_id: Text = None
    decision_id: Text = None
    budget_limit_usd: Number = _alias("budget_limit", "new_limit", "budget_limit_usd")


class AgentReply(ApiModel):
    """``POST /agent/message``."""

    success: Flag = None
    message_id: Text = None
    response: Text = None
    tokens_used: Whole = None


# --- gpubroker's own views ------------------------------------------------------------------


class PlanRow(BaseModel):
    """One plan as `gpubroker plans` shows it."""

    plan: str
    display_name: str | None = None
    price_usd_month: float | None = None
    tokens: int | None = None
    source: str


class PlanTable(BaseModel):
    """The plans, where they came from (``api`` or ``built-in``), and why when built in."""

    plans: list[PlanRow]
    source: str
    note: str | None = None


class Subscription(BaseModel):
    """A subscription as gpubroker knows it: the local row plus the server's latest word.

    ``subscription_id`` is None until the server has created the subscription (a paid plan
    is drafted locally by `subscribe` and created when its payment is captured).
    """

    subscription_id: str | None = None
    profile: str
    email: str | None = None
    name: str | None = None
    plan: str | None = None
    plan_name: str | None = None
    status: str | None = None
    progress_percent: int | None = None
    country: str | None = None
    tax_id: str | None = None
    pod_id: str | None = None
    pod_url: str | None = None
    order_id: str | None = None
    transaction_id: str | None = None
    amount_usd: float | None = None
    tokens_remaining: int | None = None
    created_at: str | None = None
    updated_at: str | None = None
    expires_at: str | None = None
    activated_at: str | None = None
    api_key_source: str | None = None
    next_step: str | None = None
    message: str | None = None


class PaymentOrder(BaseModel):
    """A PayPal order for a drafted subscription: approve it at ``approval_url``."""

    order_id: str
    approval_url: str
    plan: str
    email: str
    amount_usd: float
    next_step: str


class AuthStatus(BaseModel):
    """Who the profile's API token says it is; never the token itself.

    The claims are read from the token (a JWT) without checking its signature: they say
    what the token claims, and ``verified`` says whether the server accepted it.
    """

    profile: str
    api_url: str
    logged_in: bool
    source: str
    email: str | None = None
    name: str | None = None
    role: str | None = None
    user_id: str | None = None
    issuer: str | None = None
    expires_at: str | None = None
    expires_in_s: int | None = None
    expired: bool | None = None
    verified: bool | None = None
    api_key_source: str | None = None


__all__ = [
    "ActionResult",
    "Activation",
    "AdminPod",
    "AdminUser",
    "AgentAck",
    "AgentDecision",
    "AgentReply",
    "AgentStatus",
    "AuthStatus",
    "BillingPlan",
    "Costs",
    "Customer",
    "CustomerDetail",
    "Dashboard",
    "Geo",
    "Health",
    "LoginResult",
    "Mode",
    "ModeChange",
    "ModeConfig",
    "PayPalCapture",
    "PayPalConfig",
    "PayPalOrder",
    "PaymentOrder",
    "PlanRow",
    "PlanTable",
    "PodAction",
    "PodMetrics",
    "PodStatus",
    "RemoteIdentity",
    "Subscription",
    "SubscriptionCreated",
    "SubscriptionRequest",
    "Transaction",
    "clean_text",
]
