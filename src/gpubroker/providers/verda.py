"""Verda (formerly DataCrunch): GPU instance types, priced per instance and location.

OAuth2 client credentials (``POST {base}/oauth2/token``) give a bearer token for
``/instance-types`` (a bare array; prices are USD strings for the whole instance),
``/instance-availability?is_spot=false|true`` (which types each location can start now)
and ``/locations`` (country codes).
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
from gpubroker.models import Availability, Offer, Query
from gpubroker.providers.base import (
    CredentialSpec,
    Provider,
    get_json,
    make_offer,
    translate_errors,
)

logger = logging.getLogger(__name__)

_COUNT_PREFIX = re.compile(r"^\s*\d+\s*x\s+", re.IGNORECASE)


class _Token(BaseModel):
    access_token: str = Field(min_length=1)


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


def _valid_items(model: type[BaseModel], payload: object, what: str, notes: list[str]) -> list[Any]:
    """Validate a bare array item by item: a non-array fails, a bad item is skipped."""
    good: list[Any] = []
    for raw in _LIST.validate_python(payload):
        try:
            good.append(model.model_validate(raw))
        except ValidationError:
            notes.append(f"malformed {what}")
    return good


def _where_available(payload: object, notes: list[str]) -> dict[str, list[str]]:
    """Instance type → location codes where it can be started now (ordered as listed)."""
    where: dict[str, list[str]] = {}
    for entry in _valid_items(_Availability, payload, "availability entry", notes):
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
    skipped: list[str] | None = None,
) -> list[Offer]:
    """Map the four Verda payloads to offers (pure).

    One offer per (instance type, location where it is available) for on-demand and, when
    a spot price exists, for spot. A type available nowhere gives one offer with no region
    and availability ``unavailable``. CPU-only types and malformed items are left out (with
    reasons appended to ``skipped``).

    Units: ``gpu_memory.size_in_gigabytes`` is the instance total (divided by the GPU count);
    Verda's "GB" figures are taken as GiB (the GPU registry snaps memory to marketed sizes).

    Raises:
        pydantic.ValidationError: a payload that is not an array.
    """
    notes = skipped if skipped is not None else []
    types = _valid_items(_InstanceType, instance_types, "instance type", notes)
    country = {
        loc.code: loc.country_code for loc in _valid_items(_Location, locations, "location", notes)
    }
    where = {
        False: _where_available(availability, notes),
        True: _where_available(spot_availability, notes),
    }

    offers: list[Offer] = []
    for it in types:
        gpu = it.gpu
        if gpu is None or gpu.number_of_gpus < 1:
            notes.append(f"{it.instance_type}: no GPU")
            continue
        if it.currency.lower() != "usd":
            notes.append(f"{it.instance_type}: price not in USD")
            continue
        gpu_count = gpu.number_of_gpus
        raw_name = _COUNT_PREFIX.sub("", gpu.description).strip() or (it.name or "").strip()
        if not raw_name:
            notes.append(f"{it.instance_type}: no GPU name")
            continue
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
    if notes:
        logger.debug("verda: skipped %d items", len(notes))
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

    def _token(self, client: httpx.Client) -> str:
        client_id, client_secret = self.credential("client_id", "client_secret")
        body = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        try:
            payload = get_json(self, client, "POST", f"{self.base_url}/oauth2/token", json=body)
        except httpx.HTTPStatusError as exc:
            # OAuth2 answers a bad client with 401 (invalid_client) or 400 (invalid_grant,
            # unauthorized_client): both mean the credentials were refused.
            if exc.response.status_code in (400, 401, 403):
                raise InvalidCredentialsError(
                    f"verda: client credentials rejected (HTTP {exc.response.status_code})",
                    hint="check them with `gpubroker keys set verda`",
                ) from None
            raise
        return _Token.model_validate(payload).access_token

    def fetch_offers(self, client: httpx.Client, query: Query | None = None) -> list[Offer]:
        """Get a token, then instance types, availability (on-demand and spot) and locations.

        The query is not pushed server-side; filters are applied centrally.
        """
        with translate_errors(self.name):
            headers = {"Authorization": f"Bearer {self._token(client)}"}

            def get(path: str, params: Mapping[str, str] | None = None) -> Any:
                return get_json(
                    self, client, "GET", f"{self.base_url}{path}", headers=headers, params=params
                )

            instance_types = get("/instance-types")
            availability = get("/instance-availability", {"is_spot": "false"})
            spot_availability = get("/instance-availability", {"is_spot": "true"})
            locations = get("/locations")
            return parse_offers(
                instance_types,
                observed_at=self.now(),
                availability=availability,
                spot_availability=spot_availability,
                locations=locations,
            )
