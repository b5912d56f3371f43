"""The hosted-API services behind ``broker.account`` and ``broker.admin``.

`AccountService` is the customer's side: log in (for operators), plans, geo, subscribe,
pay, activate, and the POD's status. `AdminService` is the operator's side: dashboard, PODs,
customers, billing, costs, mode, and (``.agent``) each POD's agent.

The subscription flow follows the backend's contract, where a subscription is created with
its payment already made (admin-api.md §1.1):

1. ``subscribe`` checks everything locally (plan, e-mail, country, an Ecuadorian RUC or
   cédula) and drafts the subscription in SQLite. The free ``trial`` plan is created on the
   server at once; a paid plan waits for its payment.
2. ``pay_paypal`` creates the PayPal order and returns the URL where the buyer approves it.
3. ``capture`` captures the approved order, then creates the subscription with the payment's
   references. The API key the server returns goes to the keyring, never to SQLite. A capture
   that succeeded is recorded before the subscription is created, so a failure in between is
   resumed by running ``capture`` again, without paying twice.
4. ``activate`` starts the POD; ``status``/``watch`` poll ``pod/status`` until it runs.

The local ``subscriptions`` table keeps the non-secret state of each step.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gpubroker import billing
from gpubroker.api import models as m
from gpubroker.api.client import AdminClient, is_loopback
from gpubroker.errors import (
    CredentialsError,
    GpubrokerError,
    MissingCredentialsError,
    NotFoundError,
    RefusedError,
    RemoteError,
    RemoteResponseError,
    RemoteTimeoutError,
    UsageError,
)
from gpubroker.identity import IdentityCheck, IdentityKind, check_identity, validate_identity

if TYPE_CHECKING:
    from gpubroker.credentials import ApiSecrets
    from gpubroker.runtime import Runtime

LOCAL_ID_PREFIX = "local-"
MAX_TOKEN_CHARS = 4096
_EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@(?:[\w-]+\.)+[^\W\d_]{2,}$")
_ALREADY_ACTIVE = re.compile(r"ya est[aá] activa|already (active|activated)|en proceso", re.I)
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")

NO_KEY_HINT = (
    "pass --api-key (or pipe it with --api-key-stdin), or set GPUBROKER_API_KEY;"
    " `gpubroker subscribe` and `gpubroker pay capture` store the key they receive"
)


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified ({} when the token is not a readable JWT)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def check_secret(value: str, what: str) -> str:
    """A pasted token or API key, stripped; refuses blanks, spaces and control characters.

    The message never repeats the value.

    Raises:
        UsageError: empty, too long, or not printable ASCII.
    """
    text = (value or "").strip()
    if not text:
        raise UsageError(f"empty {what}; nothing stored")
    if len(text) > MAX_TOKEN_CHARS:
        raise UsageError(f"the {what} is longer than {MAX_TOKEN_CHARS} characters")
    if not _PRINTABLE.match(text):
        raise UsageError(f"the {what} contains spaces or characters that cannot be in it")
    return text


def check_email(email: str) -> str:
    """A plausible e-mail address, stripped (the backend accepts any string).

    Raises:
        UsageError: not an address.
    """
    text = (email or "").strip()
    hidden = any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)
    if hidden or not _EMAIL.match(text) or len(text) > 254:
        raise UsageError("email must be an e-mail address (name@domain)", param="email")
    return text


def _clean_field(value: str | None, what: str, limit: int) -> str | None:
    if value is None:
        return None
    text = m.clean_text(value)
    if text and len(text) > limit:
        raise UsageError(f"{what} must be at most {limit} characters", param=what)
    return text


def check_country(country: str) -> str:
    """An ISO-2 country code, upper case.

    Raises:
        UsageError: not two letters.
    """
    text = (country or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", text):
        raise UsageError(
            f"country must be a two-letter ISO code such as EC or US, not {country[:20]!r}",
            param="country",
        )
    return text


def check_usd(value: float, what: str) -> float:
    """A finite, positive amount of dollars.

    Raises:
        UsageError: NaN, infinite, zero or negative.
    """
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise UsageError(f"{what} must be a positive number of USD, not {value}", param=what)
    return float(value)


def _safe_url(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and is_loopback(parts.hostname)


class _ApiBase:
    """What both services share: settings, secrets, and a client per operation."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def profile(self) -> str:
        return self.runtime.profile

    @property
    def api_url(self) -> str:
        return self.runtime.settings.api_url

    @cached_property
    def secrets(self) -> ApiSecrets:
        """The profile's token and API key (env, keyring, or the explicit 0600 file)."""
        from gpubroker.credentials import ApiSecrets

        return ApiSecrets(self.profile, self.runtime.home)

    def _secret(self, field: str) -> tuple[str | None, str]:
        return self.secrets.get(field)

    def _known_secrets(self) -> list[str]:
        values = []
        for field in ("token", "api_key"):
            with contextlib.suppress(CredentialsError):
                value, _ = self.secrets.get(field)
                if value:
                    values.append(value)
        return values

    @contextlib.contextmanager
    def client(
        self, *, token: str | None = None, extra: list[str] | None = None
    ) -> Iterator[AdminClient]:
        """An `AdminClient` for one operation (its HTTP client is closed afterwards)."""
        base = self.api_url
        http = self.runtime.http_client()
        try:
            yield AdminClient(
                base,
                http,
                token=token,
                secrets=[*self._known_secrets(), *(extra or [])],
                deadline_s=max(30.0, self.runtime.settings.provider_timeout_s * 3),
            )
        finally:
            http.close()

    def _token(self) -> str:
        token, _ = self._secret("token")
        if not token:
            raise MissingCredentialsError(
                "not logged in to the hosted API",
                hint="run `gpubroker auth login`, or set GPUBROKER_TOKEN",
            )
        return token

    @contextlib.contextmanager
    def admin_client(self) -> Iterator[AdminClient]:
        """A client carrying the profile's admin token.

        Raises:
            MissingCredentialsError: no token (exit 4).
        """
        with self.client(token=self._token()) as api:
            yield api


class AccountService(_ApiBase):
    """The customer's side of the hosted API, and the profile's login.

    Args:
        runtime: the composition root (settings, home, store, clock, HTTP client).
    """

    # -- login --------------------------------------------------------------------------------

    def _auth_status(self, token: str | None, source: str) -> m.AuthStatus:
        claims = token_claims(token) if token else {}
        exp = m.finite_number(claims.get("exp"))
        expires_at = expires_in = expired = None
        if exp is not None:
            try:
                moment = datetime.fromtimestamp(exp, UTC)
            except (OverflowError, OSError, ValueError):
                moment = None
            if moment is not None:
                expires_at = moment.isoformat()
                expires_in = int((moment - self.runtime.now()).total_seconds())
                expired = expires_in <= 0
        roles = claims.get("roles")
        role = claims.get("role") or (roles[0] if isinstance(roles, list) and roles else None)
        _, key_source = self._api_key_state()
        return m.AuthStatus(
            profile=self.profile,
            api_url=self.api_url,
            logged_in=bool(token),
            source=source,
            email=m.clean_text(claims.get("email") or claims.get("sub")),
            name=m.clean_text(claims.get("name")),
            role=m.clean_text(role),
            user_id=m.clean_text(claims.get("user_id")),
            issuer=m.clean_text(claims.get("iss")),
            expires_at=expires_at,
            expires_in_s=expires_in,
            expired=expired,
            api_key_source=key_source,
        )

    def _api_key_state(self) -> tuple[str | None, str]:
        try:
            return self.secrets.get("api_key")
        except CredentialsError:
            return None, "file (unusable)"

    def login(self, email: str, password: str, *, insecure_storage: bool = False) -> m.AuthStatus:
        """Log in with e-mail and password and keep the token for this profile.

        Raises:
            InvalidCredentialsError: refused, or no usable token in the answer (exit 4).
            KeyringUnavailableError: the token could not be kept (checked before the request).
        """
        email = check_email(email)
        if not password:
            raise UsageError("empty password")
        self.secrets.require_storage("token", insecure=insecure_storage)
        with self.client(extra=[password]) as api:
            result = api.login(email, password)
        token = check_secret(result.token or "", "token")
        source = self.secrets.store("token", token, insecure=insecure_storage)
        return self._auth_status(token, source)

    def login_with_token(
        self, token: str, *, insecure_storage: bool = False, verify: bool = True
    ) -> m.AuthStatus:
        """Keep a token issued elsewhere, after checking it with the server (``verify``).

        Raises:
            UsageError: not a token; InvalidCredentialsError: the server refused it.
            KeyringUnavailableError: it could not be kept.
        """
        token = check_secret(token, "token")
        self.secrets.require_storage("token", insecure=insecure_storage)
        verified = None
        if verify:
            with self.client(token=token) as api:
                api.admin_mode()
            verified = True
        source = self.secrets.store("token", token, insecure=insecure_storage)
        return self._auth_status(token, source).model_copy(update={"verified": verified})

    def auth_status(self, *, verify: bool = False) -> m.AuthStatus:
        """Who the profile's token says it is, its source and expiry (``verify``: ask the server).

        Never raises for a missing or expired token: `AuthStatus` says so.
        """
        token, source = self._secret("token")
        status = self._auth_status(token, source)
        if verify and token:
            try:
                with self.client(token=token) as api:
                    api.admin_mode()
                status = status.model_copy(update={"verified": True})
            except CredentialsError:
                status = status.model_copy(update={"verified": False})
        return status

    def token(self) -> str:
        """The profile's token, for scripts (``gpubroker auth token``).

        Raises:
            MissingCredentialsError: not logged in (exit 4).
        """
        return self._token()

    def logout(self, *, api_key: bool = False) -> list[str]:
        """Forget the stored token (and with ``api_key`` the subscription API key).

        Returns:
            What was removed, e.g. ``["token from keyring"]`` (empty: nothing was stored).
        """
        removed = [f"token from {where}" for where in self.secrets.delete("token")]
        if api_key:
            removed += [f"API key from {where}" for where in self.secrets.delete("api_key")]
        return removed

    # -- public information -----------------------------------------------------------------

    def health(self) -> m.Health:
        """The admin API's health answer."""
        with self.client() as api:
            return api.health()

    def mode(self) -> m.Mode:
        """The backend's mode (sandbox or live) and what is configured."""
        with self.client() as api:
            return api.mode()

    def mode_config(self) -> m.ModeConfig:
        """The backend's configuration summary (public)."""
        with self.client() as api:
            return api.mode_config()

    def paypal_config(self) -> m.PayPalConfig:
        """Whether PayPal is configured on the backend."""
        with self.client() as api:
            return api.paypal_config()

    def plans(self) -> m.PlanTable:
        """The plans: from the API when it lists any, else the built-in table, labelled.

        Never fails for an unreachable API: the note says why the built-in table is shown.
        With the ``offline`` setting, the API is not asked.
        """
        if self.runtime.settings.offline:
            return self._built_in_plans("offline: showing the built-in plans")
        try:
            with self.client() as api:
                listed = api.plans()
        except GpubrokerError as exc:
            note = f"the hosted API is unreachable ({exc.message}); showing the built-in plans"
            return self._built_in_plans(note)
        rows = [
            m.PlanRow(
                plan=p.plan,
                display_name=p.display_name,
                price_usd_month=p.price_usd_month,
                tokens=p.tokens,
                source=billing.SOURCE_API,
            )
            for p in listed
            if p.plan
        ]
        if not rows:
            return self._built_in_plans("the hosted API lists no plans; showing the built-in ones")
        return m.PlanTable(plans=rows, source=billing.SOURCE_API)

    @staticmethod
    def _built_in_plans(note: str) -> m.PlanTable:
        rows = [m.PlanRow.model_validate(r) for r in billing.plan_rows(billing.SOURCE_BUILT_IN)]
        return m.PlanTable(plans=rows, source=billing.SOURCE_BUILT_IN, note=note)

    def geo(self, country: str | None = None) -> m.Geo:
        """The caller's country as the backend detects it (or ``country``'s rules)."""
        forced = check_country(country) if country else None
        with self.client() as api:
            return api.geo_detect(forced)

    def check_identity(
        self, value: str, kind: IdentityKind | str | None = None, *, lenient: bool = False
    ) -> IdentityCheck:
        """`gpubroker.identity.check_identity` (local, never raises for a bad number)."""
        return check_identity(value, kind, lenient=lenient)

    def validate_remote(
        self, value: str, kind: IdentityKind | str | None = None
    ) -> m.RemoteIdentity:
        """Ask the server to validate a RUC or cédula (``kind`` None: its generic route).

        The backend's validation routes reject JSON bodies (HTTP 422), so expect a
        `RemoteError` from most servers; the local check is the one to trust.
        """
        number = check_identity(value, kind).value or value.strip()
        kind = check_identity(value, kind).kind if kind is not None else None
        with self.client() as api:
            if kind is IdentityKind.RUC:
                return api.validate_ruc(number)
            if kind is IdentityKind.CEDULA:
                return api.validate_cedula(number)
            return api.validate_identity(number)

    # -- the local record ---------------------------------------------------------------------

    def _view(self, row: dict[str, Any], **extra: Any) -> m.Subscription:
        sub_id = row.get("subscription_id")
        plan = row.get("plan")
        status = row.get("status")
        _, key_source = self._api_key_state()
        data = {
            **{k: row.get(k) for k in m.Subscription.model_fields if k in row},
            "subscription_id": None if str(sub_id).startswith(LOCAL_ID_PREFIX) else sub_id,
            "profile": row.get("profile") or self.profile,
            "plan_name": billing.PLANS[plan].display_name if plan in billing.PLANS else None,
            "progress_percent": billing.progress_percent(status),
            "api_key_source": key_source,
            "next_step": billing.next_step(status),
        }
        data.update({k: v for k, v in extra.items() if v is not None})
        return m.Subscription.model_validate(data)

    def subscription(self) -> m.Subscription:
        """The profile's current (most recently updated) subscription, from SQLite.

        Raises:
            NotFoundError: none yet.
        """
        row = self.runtime.store.current_subscription(self.profile)
        if row is None:
            raise NotFoundError(
                "no subscription in this profile yet",
                hint="start with `gpubroker subscribe --plan PLAN --email EMAIL`",
            )
        return self._view(row)

    def subscriptions(self) -> list[m.Subscription]:
        """Every subscription of the profile, most recent first."""
        return [self._view(r) for r in self.runtime.store.subscriptions(self.profile)]

    def _save(self, row: dict[str, Any], previous_id: str | None = None) -> dict[str, Any]:
        return self.runtime.store.save_subscription(
            {**row, "profile": self.profile}, previous_id=previous_id
        )

    def _now(self) -> str:
        return self.runtime.now().astimezone(UTC).isoformat()

    # -- subscribe, pay, activate -----------------------------------------------------------

    def subscribe(
        self,
        *,
        plan: str,
        email: str,
        name: str | None = None,
        country: str | None = None,
        tax_id: str | None = None,
        lenient_tax_id: bool = False,
        insecure_storage: bool = False,
    ) -> m.Subscription:
        """Draft a subscription (a paid plan) or create it (the free trial).

        Everything is checked before any request: the plan, the e-mail, the country code,
        and for Ecuador (``EC``, given or detected) a RUC or cédula, validated locally.

        Raises:
            UsageError: bad plan, e-mail or country; EC without a tax id (exit 2).
            InvalidIdentityError: an invalid RUC or cédula (exit 6).
            KeyringUnavailableError: the trial's API key could not be kept (checked first).
        """
        plan = billing.normalise_plan(plan)
        email = check_email(email)
        name = _clean_field(name, "name", 120)
        tax_id = (tax_id or "").strip() or None
        if country:
            country = check_country(country)
        free = not billing.requires_payment(plan)
        if free:
            self.secrets.require_storage("api_key", insecure=insecure_storage)
        if country is None:
            try:
                geo = self.geo()
            except RemoteError as exc:
                exc.hint = "pass --country XX to skip the detection"
                raise
            if not geo.country_code:
                raise RemoteResponseError(
                    "api",
                    "detecting the country: the server did not say",
                    hint="pass --country XX",
                )
            country = geo.country_code
            needs_tax_id = bool(geo.requires_tax_id) or billing.tax_id_label(country) is not None
        else:
            needs_tax_id = billing.tax_id_label(country) is not None
        if needs_tax_id:
            label = billing.tax_id_label(country) or "tax id"
            if not tax_id:
                raise UsageError(
                    f"tax_id is required for subscriptions from {country} ({label})",
                    param="tax_id",
                )
            if country == "EC":
                tax_id = validate_identity(tax_id, lenient=lenient_tax_id).value
        if tax_id is not None:
            tax_id = _clean_field(tax_id, "tax_id", 20)
        row: dict[str, Any] = {
            "email": email,
            "name": name,
            "plan": plan,
            "country": country,
            "tax_id": tax_id,
            "amount_usd": billing.PLANS[plan].price_usd_month,
        }
        if free:
            request = m.SubscriptionRequest(
                email=email,
                plan=plan,
                ruc=tax_id or "",
                name=name or "",
                country_code=country,
                amount=0.0,
                payment_provider="none",
            )
            return self._create(request, row, insecure_storage=insecure_storage)
        # Redraft in place, unless that draft has a PayPal order already: it stays, so the
        # order can still be captured for what it was created for.
        drafts = self.runtime.store.subscriptions(
            self.profile, status=billing.STATUS_PENDING_PAYMENT
        )
        reusable = [d for d in drafts if not d.get("order_id")]
        draft_id = (
            reusable[0]["subscription_id"]
            if reusable
            else f"{LOCAL_ID_PREFIX}{uuid.uuid4().hex[:12]}"
        )
        saved = self._save(
            {**row, "subscription_id": draft_id, "status": billing.STATUS_PENDING_PAYMENT}
        )
        return self._view(saved)

    def _create(
        self,
        request: m.SubscriptionRequest,
        row: dict[str, Any],
        *,
        previous_id: str | None = None,
        insecure_storage: bool = False,
        api: AdminClient | None = None,
    ) -> m.Subscription:
        if api is None:
            with self.client() as fresh:
                created = fresh.create_subscription(request)
        else:
            created = api.create_subscription(request)
        assert created.api_key is not None  # the client refuses an answer without one
        key_source = self.secrets.store("api_key", created.api_key, insecure=insecure_storage)
        sub_id = created.subscription_id or f"{LOCAL_ID_PREFIX}{uuid.uuid4().hex[:12]}"
        saved = self._save(
            {
                **row,
                "subscription_id": sub_id,
                "status": created.status or billing.STATUS_PENDING_ACTIVATION,
                "pod_id": created.pod_id,
                "pod_url": created.pod_url,
            },
            previous_id=previous_id,
        )
        return self._view(saved, api_key_source=key_source, message=created.message)

    def _draft(self) -> dict[str, Any]:
        for status in (billing.STATUS_PENDING_PAYMENT,):
            rows = self.runtime.store.subscriptions(self.profile, status=status)
            if rows:
                return rows[0]
        raise NotFoundError(
            "nothing to pay: this profile has no subscription waiting for payment",
            hint="start with `gpubroker subscribe --plan PLAN --email EMAIL`",
        )

    def pay_paypal(self) -> m.PaymentOrder:
        """Create the PayPal order for the drafted subscription.

        Raises:
            NotFoundError: no subscription waits for payment (exit 3).
            RemoteResponseError: the approval URL is not an https:// address.
        """
        draft = self._draft()
        plan = draft["plan"]
        amount = billing.plan_info(plan).price_usd_month
        with self.client() as api:
            order = api.paypal_order(
                email=draft["email"],
                plan=plan,
                amount_usd=amount,
                tax_id=draft.get("tax_id") or "",
                name=draft.get("name") or "",
            )
        if not _safe_url(order.approval_url):
            raise RemoteResponseError(
                "api",
                "creating the PayPal order: the approval URL is not an https:// address",
                hint="do not pay through it; report this to the operator",
            )
        assert order.order_id and order.approval_url
        self._save({"subscription_id": draft["subscription_id"], "order_id": order.order_id})
        return m.PaymentOrder(
            order_id=order.order_id,
            approval_url=order.approval_url,
            plan=plan,
            email=draft["email"],
            amount_usd=amount,
            next_step=f"gpubroker pay capture {order.order_id}",
        )

    def capture(self, order_id: str, *, insecure_storage: bool = False) -> m.Subscription:
        """Capture an approved PayPal order and create the subscription it paid for.

        Safe to run again: a capture already recorded is not repeated, only the creation.

        Raises:
            RefusedError: PayPal has not completed the payment (not approved yet).
            KeyringUnavailableError: the new API key could not be kept (checked first).
        """
        order_id = (order_id or "").strip()
        if not order_id:
            raise UsageError("order_id must not be empty", param="order_id")
        self.secrets.require_storage("api_key", insecure=insecure_storage)
        rows = self.runtime.store.subscriptions(self.profile, order_id=order_id)
        row = rows[0] if rows else None
        if row and not str(row["subscription_id"]).startswith(LOCAL_ID_PREFIX):
            return self._view(row, message="this order was already captured and subscribed")
        if row and row.get("status") == billing.STATUS_PAID and row.get("transaction_id"):
            paid = row  # captured before; the subscription still needs creating
        else:
            with self.client() as client:
                captured = client.paypal_capture(order_id)
            status = (captured.status or "COMPLETED").upper()
            if status != "COMPLETED":
                raise RefusedError(
                    f"capturing PayPal order {order_id}: the payment is {status}, not completed",
                    hint="open the approval URL, approve the payment, then capture again",
                )
            base = row or {
                "subscription_id": f"{LOCAL_ID_PREFIX}{uuid.uuid4().hex[:12]}",
                "email": captured.email,
                "plan": captured.plan,
                "name": captured.name,
                "tax_id": captured.tax_id,
            }
            paid = self._save(
                {
                    **base,
                    "status": billing.STATUS_PAID,
                    "order_id": order_id,
                    "transaction_id": captured.transaction_id or order_id,
                    "amount_usd": captured.amount_usd
                    if captured.amount_usd is not None
                    else base.get("amount_usd"),
                }
            )
        if not paid.get("email") or not paid.get("plan"):
            raise RemoteResponseError(
                "api",
                f"capturing PayPal order {order_id}: the capture names no e-mail or plan,"
                " and this profile has no draft for it",
                hint="subscribe from the machine that created the order",
            )
        request = m.SubscriptionRequest(
            email=paid["email"],
            plan=paid["plan"],
            ruc=paid.get("tax_id") or "",
            name=paid.get("name") or "",
            country_code=paid.get("country") or "",
            transaction_id=paid.get("transaction_id") or "",
            order_id=order_id,
            amount=float(paid.get("amount_usd") or 0.0),
            payment_provider="paypal",
            card_last4="****",
        )
        return self._create(
            request,
            {k: v for k, v in paid.items() if k != "subscription_id"},
            previous_id=paid["subscription_id"],
            insecure_storage=insecure_storage,
        )

    def _row_for_pod(self, pod_id: str | None) -> dict[str, Any] | None:
        if pod_id:
            rows = self.runtime.store.subscriptions(self.profile, pod_id=pod_id)
            if rows:
                return rows[0]
        return None

    def _resolve_key(self, api_key: str | None) -> tuple[str, bool]:
        """(key, given): the key passed in, else the stored one."""
        if api_key is not None:
            return check_secret(api_key, "API key"), True
        stored, _ = self._secret("api_key")
        if not stored:
            raise MissingCredentialsError("no subscription API key", hint=NO_KEY_HINT)
        return stored, False

    def activate(
        self, api_key: str | None = None, *, insecure_storage: bool = False
    ) -> m.Subscription:
        """Activate the subscription whose API key is given (or stored): its POD starts.

        A key given here is kept in the keyring once the server accepts it (or fails
        for its own reasons), never in SQLite.

        Raises:
            InvalidCredentialsError: the server does not know the key (exit 4).
            RemoteError: the server failed (exit 5); a known backend defect answers 500.
        """
        key, given = self._resolve_key(api_key)
        if given:
            self.secrets.require_storage("api_key", insecure=insecure_storage)
        key_source = None
        try:
            with self.client(extra=[key]) as api:
                activation = api.activate(key)
        except RemoteError as exc:
            if given:
                self.secrets.store("api_key", key, insecure=insecure_storage)
            if exc.status_code == 500:
                exc.hint = (
                    "the backend failed to start the POD (activation of a valid key answers"
                    " HTTP 500 on some backends); the API key is kept: retry with"
                    " `gpubroker activate` later, or ask the operator"
                )
            raise
        except RefusedError as exc:
            if not _ALREADY_ACTIVE.search(exc.message):
                raise
            if given:
                key_source = self.secrets.store("api_key", key, insecure=insecure_storage)
            return self.status(api_key=key).model_copy(
                update={"message": "the subscription was already activated"}
            )
        if given:
            key_source = self.secrets.store("api_key", key, insecure=insecure_storage)
        row = self._row_for_pod(activation.pod_id) or self._pending_row()
        saved = self._save(
            {
                **(row or {}),
                "subscription_id": (row or {}).get("subscription_id")
                or f"{LOCAL_ID_PREFIX}{uuid.uuid4().hex[:12]}",
                "status": activation.status or billing.STATUS_PROVISIONING,
                "pod_id": activation.pod_id,
                "pod_url": activation.pod_url,
                "activated_at": self._now(),
            }
        )
        return self._view(saved, api_key_source=key_source, message=activation.message)

    def _row_without_pod(self) -> dict[str, Any] | None:
        current = self.runtime.store.current_subscription(self.profile)
        return current if current and not current.get("pod_id") else None

    def _pending_row(self) -> dict[str, Any] | None:
        rows = self.runtime.store.subscriptions(
            self.profile, status=billing.STATUS_PENDING_ACTIVATION
        )
        return rows[0] if rows else None

    def status(self, *, api_key: str | None = None) -> m.Subscription:
        """Ask the server for the POD's status now, and record it.

        Raises:
            MissingCredentialsError: no API key (exit 4).
            InvalidCredentialsError: the server does not know the key (exit 4).
        """
        key, _ = self._resolve_key(api_key)
        with self.client(extra=[key]) as api:
            return self._poll(api, key)

    def _poll(self, api: AdminClient, key: str) -> m.Subscription:
        pod = api.pod_status(key)
        row = self._row_for_pod(pod.pod_id) or self._pending_row() or self._row_without_pod()
        saved = self._save(
            {
                **(row or {}),
                "subscription_id": (row or {}).get("subscription_id")
                or f"{LOCAL_ID_PREFIX}{uuid.uuid4().hex[:12]}",
                "status": pod.status,
                "pod_id": pod.pod_id,
                "pod_url": pod.pod_url,
                "tokens_remaining": pod.tokens_remaining,
                "expires_at": pod.expires_at,
            }
        )
        view = self._view(saved)
        if pod.progress_percent is not None:
            view = view.model_copy(update={"progress_percent": pod.progress_percent})
        return view

    def watch(
        self,
        *,
        timeout_s: float = 600.0,
        interval_s: float = 5.0,
        on_update: Callable[[m.Subscription | None, GpubrokerError | None], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> m.Subscription:
        """Poll the POD's status until it runs.

        Server failures (5xx, network) while provisioning are reported to ``on_update`` and
        polled through: some backends answer 500 while a POD is provisioning.

        Raises:
            RefusedError: the subscription is not activated (exit 6).
            GpubrokerError: the POD failed, was destroyed or expired (exit 1).
            RemoteTimeoutError: still not running after ``timeout_s`` (exit 5).
            InvalidCredentialsError: the key is refused (exit 4).
        """
        if not math.isfinite(timeout_s) or timeout_s < 0:
            raise UsageError("timeout must be a finite number of seconds >= 0", param="timeout")
        if not math.isfinite(interval_s) or interval_s <= 0:
            raise UsageError("interval must be a positive number of seconds", param="interval")
        key, _ = self._resolve_key(None)
        with self.client(extra=[key]) as api:
            return self._watch(api, key, timeout_s, interval_s, on_update, sleep, clock)

    def _watch(
        self,
        api: AdminClient,
        key: str,
        timeout_s: float,
        interval_s: float,
        on_update: Callable[[m.Subscription | None, GpubrokerError | None], None] | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> m.Subscription:
        deadline = clock() + timeout_s
        last: m.Subscription | None = None
        last_error: GpubrokerError | None = None
        while True:
            try:
                last = self._poll(api, key)
                last_error = None
            except RemoteError as exc:
                last_error = exc
            if on_update is not None:
                on_update(last, last_error)
            if last_error is None and last is not None:
                state = (last.status or "").lower()
                if state in billing.RUNNING_STATUSES:
                    return last
                if state in billing.FAILED_STATUSES:
                    raise GpubrokerError(
                        f"the POD {last.pod_id or '(unknown)'} is {state}",
                        hint="operators: `gpubroker admin pod start POD`; customers: contact"
                        " support",
                    )
                if state == billing.STATUS_PENDING_ACTIVATION:
                    raise RefusedError(
                        "the subscription is not activated yet",
                        hint="run `gpubroker activate` first",
                    )
            remaining = deadline - clock()
            if remaining <= 0:
                where = (
                    f"last status {last.status} ({last.progress_percent or 0}%)"
                    if last is not None
                    else "no status read"
                )
                why = f"; last error: {last_error.message}" if last_error else ""
                raise RemoteTimeoutError(
                    "api",
                    f"the POD is not running after {timeout_s:g}s ({where}{why})",
                    hint="check again later with `gpubroker status --watch`",
                )
            sleep(min(interval_s, remaining))


class AgentService(_ApiBase):
    """Each POD's agent (admin only): start with a budget, pause, decisions, messages."""

    def start(self, pod_id: str, budget_usd: float) -> m.AgentAck:
        """Start the POD's agent with a spending limit in USD."""
        budget_usd = check_usd(budget_usd, "budget")
        with self.admin_client() as api:
            return api.agent_start(pod_id, budget_usd)

    def stop(self, pod_id: str) -> m.AgentAck:
        with self.admin_client() as api:
            return api.agent_action("stop", pod_id)

    def pause(self, pod_id: str) -> m.AgentAck:
        with self.admin_client() as api:
            return api.agent_action("pause", pod_id)

    def resume(self, pod_id: str) -> m.AgentAck:
        with self.admin_client() as api:
            return api.agent_action("resume", pod_id)

    def status(self, pod_id: str) -> m.AgentStatus:
        with self.admin_client() as api:
            return api.agent_status(pod_id)

    def decisions(
        self, pod_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[m.AgentDecision]:
        """The agent's decisions, optionally only those with ``status``."""
        if limit < 1 or limit > 1000:
            raise UsageError("limit must be between 1 and 1000", param="limit")
        with self.admin_client() as api:
            return api.agent_decisions(pod_id, status=status, limit=limit)

    def approve(self, pod_id: str, decision_id: str, notes: str = "") -> m.AgentAck:
        with self.admin_client() as api:
            return api.agent_override(pod_id, decision_id, "approve", notes)

    def reject(self, pod_id: str, decision_id: str, notes: str = "") -> m.AgentAck:
        with self.admin_client() as api:
            return api.agent_override(pod_id, decision_id, "reject", notes)

    def budget(self, pod_id: str, budget_usd: float) -> m.AgentAck:
        """Set the agent's spending limit in USD."""
        budget_usd = check_usd(budget_usd, "budget")
        with self.admin_client() as api:
            return api.agent_budget(pod_id, budget_usd)

    def message(self, pod_id: str, text: str) -> m.AgentReply:
        """Send the agent a message and return its reply."""
        text = (text or "").strip()
        if not text:
            raise UsageError("message must not be empty", param="message")
        if len(text) > 10_000:
            raise UsageError("message must be at most 10000 characters", param="message")
        with self.admin_client() as api:
            return api.agent_message(pod_id, text)


class AdminService(_ApiBase):
    """The operator's side of the hosted API (every call needs the profile's admin token)."""

    @cached_property
    def agent(self) -> AgentService:
        """Each POD's agent."""
        return AgentService(self.runtime)

    def dashboard(self) -> m.Dashboard:
        with self.admin_client() as api:
            return api.dashboard()

    def pods(self) -> list[m.AdminPod]:
        with self.admin_client() as api:
            return api.pods()

    def pod_start(self, pod_id: str) -> m.PodAction:
        """Start a POD's ECS task (billable)."""
        with self.admin_client() as api:
            return api.pod_start(pod_id)

    def pod_destroy(self, pod_id: str) -> m.PodAction:
        """Destroy a POD.

        Raises:
            NotFoundError: the backend does not know the POD (exit 3).
        """
        with self.admin_client() as api:
            return api.pod_destroy(pod_id)

    def pod_metrics(self, pod_id: str) -> m.PodMetrics:
        with self.admin_client() as api:
            return api.pod_metrics(pod_id)

    def costs(self) -> m.Costs:
        """The backend's monthly cost estimate; parts an older backend leaves out are filled
        in with its documented formula (`gpubroker.billing.cost_summary`)."""
        with self.admin_client() as api:
            costs = api.costs()
        update: dict[str, Any] = {}
        if costs.per_pod_estimate.monthly_cost_usd is None:
            update["per_pod_estimate"] = m.PodEstimate(
                vcpu=billing.POD_VCPU,
                memory_gib=billing.POD_MEMORY_GIB,
                monthly_cost_usd=round(billing.fargate_pod_month_usd(), 2),
            )
        pro = costs.profitability
        if pro.profit_usd is None and costs.active_pods is not None:
            revenue = costs.total_revenue_usd or 0.0
            summary = billing.cost_summary(costs.active_pods, revenue)
            update["profitability"] = m.Profitability.model_validate(
                {**summary, "revenue_usd": revenue}
            )
        return costs.model_copy(update=update) if update else costs

    def customers(self) -> list[m.Customer]:
        with self.admin_client() as api:
            return api.customers()

    def customer(self, email: str) -> m.CustomerDetail:
        with self.admin_client() as api:
            return api.customer(email)

    def billing(self) -> list[m.Transaction]:
        with self.admin_client() as api:
            return api.billing()

    def transaction(self, transaction_id: str) -> m.Transaction:
        with self.admin_client() as api:
            return api.transaction(transaction_id)

    def resend_receipt(self, email: str) -> m.ActionResult:
        email = check_email(email)
        with self.admin_client() as api:
            return api.resend_receipt(email)

    def mode(self) -> m.Mode:
        with self.admin_client() as api:
            return api.admin_mode()

    def set_mode(self, mode: str, *, confirm: bool = False) -> m.ModeChange:
        """Switch the backend to ``sandbox`` or ``live``.

        Raises:
            UsageError: another mode (exit 2).
            RefusedError: ``live`` without ``confirm`` (exit 6), before any request.
        """
        mode = (mode or "").strip().lower()
        if mode not in ("sandbox", "live"):
            raise UsageError(f"mode must be sandbox or live, not {mode!r}", param="mode")
        if mode == "live" and not confirm:
            raise RefusedError(
                "switching to live mode processes real payments and starts real resources;"
                " it needs confirmation",
                hint="pass --confirm",
            )
        with self.admin_client() as api:
            return api.set_mode(mode, confirm=confirm)


__all__ = ["AccountService", "AdminService", "AgentService", "check_email", "token_claims"]
