"""RunPod: the GraphQL ``gpuTypes`` query with ``lowestPrice`` for one GPU.

Two calls per fetch, one per cloud: ``lowestPrice(input: {gpuCount: 1, secureCloud: true})``
(Secure Cloud) and ``secureCloud: false`` (Community Cloud). Per-cloud calls are used rather
than one call reading ``securePrice``/``communityPrice`` because ``lowestPrice`` carries the
stock status, vCPU/RAM and country *for the cloud asked about*; the flat per-cloud list prices
are only a fallback when ``lowestPrice`` has no price (out of stock).

Prices are USD per GPU per hour; offers are built for ``gpu_count = 1`` only, since
``lowestPrice`` answers for one GPU count at a time. ``memoryInGb`` is per GPU and
``minMemory`` is the pod's RAM in GB (taken as GiB). Pricing works anonymously; a configured
``RUNPOD_API_KEY`` is sent as ``Authorization: Bearer``. GraphQL errors arrive as HTTP 200
with ``{"errors": [...]}`` and become `ProviderResponseError`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar, Literal

import httpx
import pydantic
from pydantic import BaseModel

from gpubroker.errors import ProviderResponseError
from gpubroker.models import Availability, Offer, Query
from gpubroker.providers.base import (
    CredentialSpec,
    Provider,
    get_json,
    make_offer,
    translate_errors,
)

_log = logging.getLogger(__name__)

Cloud = Literal["secure", "community"]
CLOUDS: tuple[Cloud, ...] = ("secure", "community")
GPU_COUNT = 1

GPU_TYPES_QUERY = """\
query GpuTypes($lowestPriceInput: GpuLowestPriceInput) {
  gpuTypes {
    id
    displayName
    manufacturer
    memoryInGb
    maxGpuCount
    secureCloud
    communityCloud
    securePrice
    communityPrice
    secureSpotPrice
    communitySpotPrice
    lowestPrice(input: $lowestPriceInput) {
      minimumBidPrice
      uninterruptablePrice
      minVcpu
      minMemory
      stockStatus
      countryCode
      maxUnreservedGpuCount
    }
  }
}
"""

_STOCK = {
    "high": Availability.AVAILABLE,
    "medium": Availability.LIMITED,
    "low": Availability.LIMITED,
}


class _GraphQLError(BaseModel):
    message: str = "unknown error"


class _Data(BaseModel):
    gpuTypes: list[Any]


class _Envelope(BaseModel):
    data: _Data | None = None
    errors: list[_GraphQLError] | None = None


class _LowestPrice(BaseModel):
    minimumBidPrice: float | None = None
    uninterruptablePrice: float | None = None
    minVcpu: float | None = None
    minMemory: float | None = None
    stockStatus: str | None = None
    countryCode: str | None = None
    maxUnreservedGpuCount: int | None = None


class _GpuType(BaseModel):
    id: str
    displayName: str | None = None
    manufacturer: str | None = None
    memoryInGb: float | None = None
    maxGpuCount: int | None = None
    secureCloud: bool | None = None
    communityCloud: bool | None = None
    securePrice: float | None = None
    communityPrice: float | None = None
    secureSpotPrice: float | None = None
    communitySpotPrice: float | None = None
    lowestPrice: _LowestPrice | None = None


def graphql_body(cloud: Cloud) -> dict[str, Any]:
    """The GraphQL request for one cloud's lowest one-GPU prices."""
    return {
        "query": GPU_TYPES_QUERY,
        "variables": {
            "lowestPriceInput": {"gpuCount": GPU_COUNT, "secureCloud": cloud == "secure"}
        },
    }


def _availability(stock: str | None) -> Availability:
    if stock is None:
        return Availability.UNAVAILABLE
    return _STOCK.get(stock.strip().lower(), Availability.UNKNOWN)


def _offers_for(gpu: _GpuType, *, cloud: Cloud, observed_at: datetime) -> list[Offer]:
    supported = gpu.secureCloud if cloud == "secure" else gpu.communityCloud
    if supported is False or gpu.id.strip().lower() == "unknown":
        return []
    lowest = gpu.lowestPrice or _LowestPrice()
    if cloud == "secure":
        list_prices = (gpu.securePrice, gpu.secureSpotPrice)
    else:
        list_prices = (gpu.communityPrice, gpu.communitySpotPrice)
    # lowestPrice is null-priced when out of stock; the list price still says what it costs.
    on_demand = lowest.uninterruptablePrice or list_prices[0]
    spot_price = lowest.minimumBidPrice or list_prices[1]
    slug = gpu.id.strip().replace(" ", "_")
    offers: list[Offer] = []
    for spot, per_gpu in ((False, on_demand), (True, spot_price)):
        if per_gpu is None:
            continue
        offer = make_offer(
            provider=RunpodProvider.name,
            native_id=f"{GPU_COUNT}x_{slug}:{cloud}:{'spot' if spot else 'ondemand'}",
            instance_type=gpu.id,
            gpu_name_raw=gpu.id,
            gpu_count=GPU_COUNT,
            gpu_memory_gib=gpu.memoryInGb or None,
            price_per_hour_usd=GPU_COUNT * per_gpu,
            observed_at=observed_at,
            vcpus=lowest.minVcpu,
            ram_gib=lowest.minMemory,
            spot=spot,
            country=lowest.countryCode or None,
            availability=_availability(lowest.stockStatus),
            extras={
                "cloud": cloud,
                "display_name": gpu.displayName,
                "max_gpu_count": gpu.maxGpuCount,
                "max_unreserved_gpu_count": lowest.maxUnreservedGpuCount,
            },
        )
        if offer is not None:
            offers.append(offer)
    return offers


def parse_offers(payload: object, *, cloud: Cloud, observed_at: datetime) -> list[Offer]:
    """Map one ``gpuTypes`` response (for one cloud) to offers (pure).

    Args:
        payload: the decoded GraphQL response.
        cloud: ``secure`` or ``community``: which cloud ``lowestPrice`` was asked for.
        observed_at: when the response was received.

    Returns:
        On-demand and spot one-GPU offers of every GPU type the cloud offers with a price.
        Malformed GPU types are skipped (and logged).

    Raises:
        ProviderResponseError: the response carries GraphQL ``errors``.
        pydantic.ValidationError: the response is not ``{"data": {"gpuTypes": [...]}}``.
    """
    envelope = _Envelope.model_validate(payload)
    if envelope.errors:
        message = envelope.errors[0].message.strip()
        if len(message) > 160:
            message = message[:157] + "..."
        raise ProviderResponseError(RunpodProvider.name, f"runpod: GraphQL error: {message}")
    if envelope.data is None:
        raise ProviderResponseError(RunpodProvider.name, "runpod: GraphQL response has no data")
    offers: list[Offer] = []
    skipped = 0
    for item in envelope.data.gpuTypes:
        try:
            gpu = _GpuType.model_validate(item)
            offers.extend(_offers_for(gpu, cloud=cloud, observed_at=observed_at))
        except (pydantic.ValidationError, ValueError, TypeError):
            skipped += 1
    if skipped:
        _log.info("runpod: skipped %d malformed GPU type(s)", skipped)
    return offers


class RunpodProvider(Provider):
    """RunPod one-GPU pod prices, Secure and Community Cloud, on-demand and spot."""

    name: ClassVar[str] = "runpod"
    label: ClassVar[str] = "RunPod"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("api_key", "RUNPOD_API_KEY", required=False),
    )
    default_base_url: ClassVar[str | None] = "https://api.runpod.io"
    homepage: ClassVar[str | None] = "https://www.runpod.io/pricing"

    def fetch_offers(self, client: httpx.Client, query: Query | None = None) -> list[Offer]:
        headers = {}
        if key := self.creds.get("api_key"):
            headers["Authorization"] = f"Bearer {key}"
        url = f"{self.base_url}/graphql"
        offers: list[Offer] = []
        with translate_errors(self.name):
            for cloud in CLOUDS:
                payload = get_json(
                    self, client, "POST", url, json=graphql_body(cloud), headers=headers
                )
                offers.extend(parse_offers(payload, cloud=cloud, observed_at=self.now()))
        return offers
