"""RunPod: the GraphQL ``gpuTypes`` query with ``lowestPrice`` for one GPU, scaled to 2/4/8.

Two calls per fetch, one per cloud: ``lowestPrice(input: {gpuCount: 1, secureCloud: true})``
(Secure Cloud) and ``secureCloud: false`` (Community Cloud). Per-cloud calls are used rather
than one call reading ``securePrice``/``communityPrice`` because ``lowestPrice`` carries the
stock status, vCPU/RAM and country *for the cloud asked about*; the flat per-cloud list prices
are only a fallback when ``lowestPrice`` has no price (out of stock).

Spot offers are priced from the cloud's spot list price (``secureSpotPrice`` /
``communitySpotPrice``), as gpuhunt and skypilot do: in recorded answers
``lowestPrice.minimumBidPrice`` equals the on-demand price, so it says nothing about what
interruptible capacity costs (it is kept in ``extras``). A type without a spot list price has no
spot offer.

Every GPU type of each answer becomes offers or a counted skip: not offered on that cloud,
RunPod's ``unknown`` placeholder, a MIG slice (a fraction of a GPU), no price, malformed.

Prices are USD per GPU per hour. ``lowestPrice`` answers for one GPU count at a time and is
asked for one GPU; offers for 2, 4 and 8 GPUs on one pod are derived from it (up to the
cloud's ``maxGpuCountSecureCloud``/``maxGpuCountCommunityCloud``, else ``maxGpuCount``) at
``count × per-GPU price``, as RunPod bills GPUs linearly (gpuhunt and skypilot do the same).
Their vCPU/RAM are the one-GPU figures times the count, an estimate; their availability is
the one-GPU stock status unless ``maxUnreservedGpuCount``/``availableGpuCounts`` rule the
count out. ``memoryInGb`` is per GPU and ``minMemory`` is the pod's RAM in GB (taken as GiB).
Pricing works anonymously; a configured ``RUNPOD_API_KEY`` is sent as
``Authorization: Bearer``. GraphQL errors arrive as HTTP 200 with ``{"errors": [...]}`` and
become `ProviderResponseError`.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, ClassVar, Literal

import pydantic
from pydantic import BaseModel

from gpubroker.errors import ProviderResponseError
from gpubroker.models import Availability, Offer
from gpubroker.providers.base import (
    FRACTIONAL_GPU,
    MALFORMED,
    NO_PRICE,
    UNKNOWN_SHAPE,
    CredentialSpec,
    FetchResult,
    FetchSession,
    Provider,
    Skips,
    make_offer,
    row_id,
)

Cloud = Literal["secure", "community"]
CLOUDS: tuple[Cloud, ...] = ("secure", "community")
GPU_COUNT = 1
"""The GPU count ``lowestPrice`` is asked for: the one-GPU offer everything is derived from."""
MULTI_GPU_COUNTS: tuple[int, ...] = (2, 4, 8)
"""Further GPU counts offered per GPU type and cloud, when within the cloud's maximum."""

GPU_TYPES_QUERY = """\
query GpuTypes($lowestPriceInput: GpuLowestPriceInput) {
  gpuTypes {
    id
    displayName
    manufacturer
    memoryInGb
    maxGpuCount
    maxGpuCountSecureCloud
    maxGpuCountCommunityCloud
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
      availableGpuCounts
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
    availableGpuCounts: list[int] | None = None


class _GpuType(BaseModel):
    id: str
    displayName: str | None = None
    manufacturer: str | None = None
    memoryInGb: float | None = None
    maxGpuCount: int | None = None
    maxGpuCountSecureCloud: int | None = None
    maxGpuCountCommunityCloud: int | None = None
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


def _max_gpu_count(gpu: _GpuType, cloud: Cloud) -> int | None:
    """The most GPUs one pod of this type can have on this cloud; None when not reported."""
    per_cloud = gpu.maxGpuCountSecureCloud if cloud == "secure" else gpu.maxGpuCountCommunityCloud
    return per_cloud if per_cloud is not None else gpu.maxGpuCount


def _gpu_counts(gpu: _GpuType, cloud: Cloud) -> list[int]:
    """One GPU always (as before); 2/4/8 only when a maximum is reported and allows them."""
    max_count = _max_gpu_count(gpu, cloud)
    extra = [n for n in MULTI_GPU_COUNTS if max_count is not None and n <= max_count]
    return [GPU_COUNT, *extra]


def _count_availability(count: int, lowest: _LowestPrice, one_gpu: Availability) -> Availability:
    """The one-GPU availability, unless RunPod says ``count`` GPUs cannot be had right now."""
    if count == GPU_COUNT:
        return one_gpu
    if lowest.maxUnreservedGpuCount is not None and count > lowest.maxUnreservedGpuCount:
        return Availability.UNAVAILABLE
    if lowest.availableGpuCounts is not None and count not in lowest.availableGpuCounts:
        return Availability.UNAVAILABLE
    return one_gpu


def _scaled(value: float | None, count: int) -> float | None:
    return None if value is None else value * count


def _is_fraction(gpu: _GpuType) -> bool:
    """A MIG slice (``NVIDIA B300 SXM6 AC MIG 1g.34gb``): part of one GPU, not a GPU."""
    return "MIG" in gpu.id.upper().split()


def _offers_for(gpu: _GpuType, *, cloud: Cloud, observed_at: datetime, skips: Skips) -> list[Offer]:
    """The offers of one GPU type on one cloud; a type that gives none is counted in ``skips``."""
    supported = gpu.secureCloud if cloud == "secure" else gpu.communityCloud
    if gpu.id.strip().lower() in ("", "unknown"):
        skips.add(UNKNOWN_SHAPE, gpu.id)
        return []
    if supported is False:
        skips.add(f"not on {cloud} cloud", gpu.id)
        return []
    if _is_fraction(gpu):
        skips.add(FRACTIONAL_GPU, gpu.id)
        return []
    lowest = gpu.lowestPrice or _LowestPrice()
    if cloud == "secure":
        list_prices = (gpu.securePrice, gpu.secureSpotPrice)
    else:
        list_prices = (gpu.communityPrice, gpu.communitySpotPrice)
    # lowestPrice is null-priced when out of stock; the list price still says what it costs.
    on_demand = lowest.uninterruptablePrice or list_prices[0]
    spot_price = list_prices[1]
    slug = gpu.id.strip().replace(" ", "_")
    one_gpu_availability = _availability(lowest.stockStatus)
    offers: list[Offer] = []
    for count in _gpu_counts(gpu, cloud):
        extras: dict[str, Any] = {
            "cloud": cloud,
            "display_name": gpu.displayName,
            "max_gpu_count": gpu.maxGpuCount,
            "max_unreserved_gpu_count": lowest.maxUnreservedGpuCount,
        }
        if lowest.minimumBidPrice is not None:
            extras["minimum_bid_per_gpu_usd"] = lowest.minimumBidPrice
        # Estimate: minVcpu/minMemory describe the cheapest *one-GPU* pod. RunPod hands out
        # vCPU and RAM roughly per GPU, so an N-GPU pod is taken to get N times as much; the
        # real machine may differ (asking lowestPrice per count would cost a call per count).
        vcpus = _scaled(lowest.minVcpu, count)
        ram_gib = _scaled(lowest.minMemory, count)
        if count != GPU_COUNT and (vcpus is not None or ram_gib is not None):
            extras["specs_scaled_from_1_gpu"] = True
        for spot, per_gpu in ((False, on_demand), (True, spot_price)):
            if per_gpu is None:
                continue
            offer = make_offer(
                provider=RunpodProvider.name,
                native_id=f"{count}x_{slug}:{cloud}:{'spot' if spot else 'ondemand'}",
                instance_type=gpu.id,
                gpu_name_raw=gpu.id,
                gpu_count=count,
                gpu_memory_gib=gpu.memoryInGb or None,
                price_per_hour_usd=count * per_gpu,
                observed_at=observed_at,
                vcpus=vcpus,
                ram_gib=ram_gib,
                spot=spot,
                country=lowest.countryCode or None,
                availability=_count_availability(count, lowest, one_gpu_availability),
                extras=dict(extras),
            )
            if offer is not None:
                offers.append(offer)
    if offers:
        skips.keep(gpu.id)
    else:
        skips.add(NO_PRICE, gpu.id)
    return offers


def parse_offers(
    payload: object, *, cloud: Cloud, observed_at: datetime, skips: Skips | None = None
) -> list[Offer]:
    """Map one ``gpuTypes`` response (for one cloud) to offers (pure).

    Args:
        payload: the decoded GraphQL response.
        cloud: ``secure`` or ``community``: which cloud ``lowestPrice`` was asked for.
        observed_at: when the response was received.
        skips: where each GPU type is accounted for (kept, or skipped with a reason).

    Returns:
        On-demand and spot offers of every GPU type the cloud offers with a price: one GPU,
        then 2, 4 and 8 GPUs as far as the cloud's maximum GPU count allows (none of those
        when no maximum is reported). Spot offers exist only where the cloud has a spot
        list price.

    Raises:
        ProviderResponseError: the response carries GraphQL ``errors``.
        pydantic.ValidationError: the response is not ``{"data": {"gpuTypes": [...]}}``.
    """
    notes = skips if skips is not None else Skips(RunpodProvider.name)
    envelope = _Envelope.model_validate(payload)
    if envelope.errors:
        message = envelope.errors[0].message.strip()
        if len(message) > 160:
            message = message[:157] + "..."
        raise ProviderResponseError(RunpodProvider.name, f"runpod: GraphQL error: {message}")
    if envelope.data is None:
        raise ProviderResponseError(RunpodProvider.name, "runpod: GraphQL response has no data")
    offers: list[Offer] = []
    for index, item in enumerate(envelope.data.gpuTypes):
        try:
            gpu = _GpuType.model_validate(item)
        except pydantic.ValidationError:
            notes.add(MALFORMED, row_id(item, "id", index=index))
            continue
        offers.extend(_offers_for(gpu, cloud=cloud, observed_at=observed_at, skips=notes))
    return offers


class RunpodProvider(Provider):
    """RunPod pod prices for 1/2/4/8 GPUs, Secure and Community Cloud, on-demand and spot."""

    name: ClassVar[str] = "runpod"
    label: ClassVar[str] = "RunPod"
    credentials: ClassVar[tuple[CredentialSpec, ...]] = (
        CredentialSpec("api_key", "RUNPOD_API_KEY", required=False),
    )
    default_base_url: ClassVar[str | None] = "https://api.runpod.io"
    homepage: ClassVar[str | None] = "https://www.runpod.io/pricing"

    def _fetch(self, session: FetchSession) -> FetchResult:
        """Ask for the Secure and the Community Cloud listings at once."""
        headers = {}
        if key := self.creds.get("api_key"):
            headers["Authorization"] = f"Bearer {key}"
        url = f"{self.base_url}/graphql"

        skips = Skips(self.name)
        lock = threading.Lock()

        def listing(cloud: Cloud) -> list[Offer]:
            # A GraphQL query only reads, so it is safe to retry.
            payload = session.json(
                "POST", url, json=graphql_body(cloud), headers=headers, idempotent=True
            )
            with lock:  # both clouds account into one Skips
                return parse_offers(payload, cloud=cloud, observed_at=self.now(), skips=skips)

        pages = session.parallel(*(lambda c=cloud: listing(c) for cloud in CLOUDS))
        return FetchResult.of([offer for page in pages for offer in page], skips)
