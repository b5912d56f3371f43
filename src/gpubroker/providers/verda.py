"""Verda (formerly DataCrunch): GPU instance types, priced per instance and location.

OAuth2 client credentials (``POST {base}/oauth2/token``) give a bearer token for
``/instance-types`` (a bare array; prices are USD strings for the whole instance),
``/instance-availability?is_spot=false|true`` (which types each location can start now)
and ``/locations`` (country codes).

The token is reused until shortly before it expires (``expires_in``), and the four GETs
run concurrently, so a fetch is at most two dependent round trips. ``/instance-types`` is
asked for with ``currency=usd``, as Verda's own SDK does: without it an account billed in EUR
gets EUR prices.

Every instance type becomes offers or a counted skip (CPU-only, priced in another currency,
no GPU name, no price, malformed). Malformed availability or location entries only cost a
region or a country; they are logged at debug level, not counted as skipped rows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from gpubroker.errors import InvalidCredentialsError
from gpubroker.models import Availability, Offer
from gpubroker.providers.base import (
    MALFORMED,
    NO_GPU,
    NO_PRICE,
    NOT_USD,
    UNKNOWN_SHAPE,
    CredentialSpec,
    FetchResult,
    FetchSession,
    Provider,
    Skips,
    TokenCache,
    make_offer,
    row_id,
)

logger = logging.getLogger(__name__)

_COUNT_PREFIX = re.compile(r"^\s*\d+\s*x\s+", re.IGNORECASE)


class _Token(BaseModel):
    access_token: str = Field(min_length=1)
    expires_in: float | None = None


class _Gpu(BaseModel):
    description: str = ""
    number_of_gpus: int = 0


class _Size(BaseModel):
    size_in_gigabytes: float | None = None


class _Cpu(BaseModel):
    number_of_cores: int | None = None


class _InstanceType(BaseModel):
    instance_type: str
    price_per_hour: float
    spot_price: float | None = None
    gpu: _Gpu | None = None
    gpu_memory: _Size | None = None
    cpu: _Cpu | None = None
    memory: _Size | None = None
    storage: _Size | None = None
    name: str | None = None
    p2p: str | None = None
    currency: str = "usd"


class _Location(BaseModel):
    code: str
    country_code: str | None = None


class _Availability(BaseModel):
    location_code: str
    availabilities: list[str] = Field(default_factory=list)


_LIST = TypeAdapter(list[Any])


def _valid_items(
    model: type[BaseModel], payload: object, what: str, skips: Skips | None = None
) -> list[Any]:
    """Validate a bare array item by item: a non-array fails, a bad item is left out.

    With ``skips`` (the instance types), a bad item is a counted skip; otherwise (the
    supplementary listings) it is only logged.
    """
    good: list[Any] = []
    for index, raw in enumerate(_LIST.validate_python(payload)):
        try:
            good.append(model.model_validate(raw))
        except ValidationError:
            name = row_id(raw, "instance_type", "code", "location_code", index=index)
            if skips is not None:
                skips.add(MALFORMED, name)
            else:
                logger.debug("verda: ignored malformed %s %r", what, name)
    return good


def _where_available(payload: object) -> dict[str, list[str]]:
    """Instance type → location codes where it can be started now (ordered as listed)."""
    where: dict[str, list[str]] = {}
    for entry in _valid_items(_Availability, payload, "availability entry"):
        for instance_type in entry.availabilities:
            codes = where.setdefault(instance_type, [])
            if entry.location_code not in codes:
                codes.append(entry.location_code)
    return where


def parse_offers(
    instance_types: object,
    *,
    observed_at: datetime,
    availability: object = (),
    spot_availability: object = (),
    locations: object = (),
    skips: Skips | None = None,
) -> list[Offer]:
    """Map the four Verda payloads to offers (pure).

    One offer per (instance type, location where it is available) for on-demand and, when
    a spot price exists, for spot. A type available nowhere gives one offer with no region
    and availability ``unavailable``. CPU-only types and malformed items are left out (with
    reasons counted in ``skips``).

    Units: ``gpu_memory.size_in_gigabytes`` is the instance total (divided by the GPU count);
    Verda's "GB" figures are taken as GiB (the GPU registry snaps memory to marketed sizes).

    Raises:
        pydantic.ValidationError: a payload that is not an array.
    """
    notes = skips if skips is not None else Skips(VerdaProvider.name)
    types = _valid_items(_InstanceType, instance_types, "instance type", notes)
    country = {loc.code: loc.country_code for loc in _valid_items(_Location, locations, "location")}
    where = {
        False: _where_available(availability),
        True: _where_available(spot_availability),
    }

    offers: list[Offer] = []
    for it in types:
        gpu = it.gpu
        if gpu is None or gpu.number_of_gpus < 1:
            notes.add(NO_GPU, it.instance_type)
            continue
        if it.currency.lower() != "usd":
            notes.add(NOT_USD, it.instance_type)
            continue
        gpu_count = gpu.number_of_gpus
        raw_name = _COUNT_PREFIX.sub("", gpu.description).strip() or (it.name or "").strip()
        if not raw_name:
            notes.add(UNKNOWN_SHAPE, it.instance_type)
            continue
        made = len(offers)
        total_gpu_gb = it.gpu_memory.size_in_gigabytes if it.gpu_memory else None
        per_gpu_gib = total_gpu_gb / gpu_count if total_gpu_gb else None
        for spot, price in ((False, it.price_per_hour), (True, it.spot_price)):
            if price is None:
                continue
            kind = "spot" if spot else "ondemand"
            codes: list[str | None] = list(where[spot].get(it.instance_type, [])) or [None]
            for code in codes:
                offer = make_offer(
                    provider=VerdaProvider.name,
                    native_id=f"{it.instance_type}:{code or 'any'}:{kind}",
                    instance_type=it.instance_type,
                    gpu_name_raw=raw_name,
                    gpu_count=gpu_count,
                    gpu_memory_gib=per_gpu_gib,
                    vcpus=it.cpu.number_of_cores if it.cpu else None,
                    ram_gib=it.memory.size_in_gigabytes if it.memory else None,
                    disk_gib=it.storage.size_in_gigabytes if it.storage else None,
                    price_per_hour_usd=price,
                    observed_at=observed_at,
                    spot=spot,
                    region=code,
                    country=country.get(code) if code else None,
                    availability=Availability.AVAILABLE if code else Availability.UNAVAILABLE,
                    extras={"p2p": it.p2p} if it.p2p else None,
                )
                if offer is not None:
                    offers.append(offer)
        if len(offers) > made:
            notes.keep(it.instance_type)
        else:
            notes.add(NO_PRICE, it.instance_type)
    return offers


class VerdaProvider(Provider):
    """Verda (DataCrunch) GPU instances; needs an OAuth2 client id and secret."""

    name: ClassVar[str] = "verda"
    label: ClassVar[str] = "Verda (DataCrunch)"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("client_id", "VERDA_CLIENT_ID", secret=False),
        CredentialSpec("client_secret", "VERDA_CLIENT_SECRET"),
    )
    default_base_url: ClassVar[str | None] = "https://api.verda.com/v1"
    homepage: ClassVar[str | None] = "https://verda.com/pricing"

    def _token(self, session: FetchSession) -> tuple[str, tuple[str, ...]]:
        """A bearer token (reused from the cache while valid) and its cache key."""
        client_id, client_secret = self.credential("client_id", "client_secret")
        key = TokenCache.key(self.base_url, client_id, client_secret)
        cached = self.tokens.get(key)
        if cached:
            return cached, key
        body = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        try:
            payload = session.json("POST", f"{self.base_url}/oauth2/token", json=body)
        except httpx.HTTPStatusError as exc:
            # OAuth2 answers a bad client with 401 (invalid_client) or 400 (invalid_grant,
            # unauthorized_client): both mean the credentials were refused.
            if exc.response.status_code in (400, 401, 403):
                raise InvalidCredentialsError(
                    f"verda: client credentials rejected (HTTP {exc.response.status_code})",
                    hint="check them with `gpubroker keys set verda`",
                    service=self.name,
                ) from None
            raise
        token = _Token.model_validate(payload)
        self.tokens.put(key, token.access_token, token.expires_in)
        return token.access_token, key

    def _fetch(self, session: FetchSession) -> FetchResult:
        """Get a token, then instance types, availability (on-demand and spot) and locations
        at once. Filters are applied centrally, not server-side."""
        token, key = self._token(session)
        headers = {"Authorization": f"Bearer {token}"}

        def get(path: str, params: Mapping[str, str] | None = None) -> Any:
            return session.json("GET", f"{self.base_url}{path}", headers=headers, params=params)

        try:
            instance_types, availability, spot_availability, locations = session.parallel(
                lambda: get("/instance-types", {"currency": "usd"}),
                lambda: get("/instance-availability", {"is_spot": "false"}),
                lambda: get("/instance-availability", {"is_spot": "true"}),
                lambda: get("/locations"),
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 401:  # revoked or expired early: forget it
                self.tokens.drop(key)
            raise
        skips = Skips(self.name)
        offers = parse_offers(
            instance_types,
            observed_at=self.now(),
            availability=availability,
            spot_availability=spot_availability,
            locations=locations,
            skips=skips,
        )
        return FetchResult.of(offers, skips)
