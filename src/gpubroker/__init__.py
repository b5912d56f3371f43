"""gpubroker: find, rank and deploy GPU compute across providers.

The CLI is a thin shell over this library::

    from gpubroker import Broker, Query, rank

    with Broker() as broker:
        result = broker.search(Query(gpus=["h100"], max_price_usd=5), offline=True)
    for offer in result.offers[:3]:
        print(offer.rank, offer.provider, offer.gpu_model, offer.price_per_hour_usd)
"""

from __future__ import annotations

__version__ = "0.1.0"

from gpubroker.broker import Broker, search
from gpubroker.errors import GpubrokerError
from gpubroker.models import (
    Availability,
    Offer,
    ProviderStatus,
    Query,
    RankedOffer,
    SearchResult,
    Source,
)
from gpubroker.ranking import rank, topsis

__all__ = [
    "Availability",
    "Broker",
    "GpubrokerError",
    "Offer",
    "ProviderStatus",
    "Query",
    "RankedOffer",
    "SearchResult",
    "Source",
    "__version__",
    "rank",
    "search",
    "topsis",
]
