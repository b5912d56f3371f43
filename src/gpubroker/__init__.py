"""gpubroker: find, rank and deploy GPU compute across providers.

The CLI is a thin shell over this library::

    from gpubroker import Broker, Query, rank

    with Broker() as broker:
        result = broker.search(Query(gpus=["h100"], max_price_usd=5), offline=True)
    for offer in result.offers[:3]:
        print(offer.rank, offer.provider, offer.gpu_model, offer.price_per_hour_usd)

Names are loaded on first use (PEP 562), so ``import gpubroker`` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Availability": "gpubroker.models",
    "Broker": "gpubroker.broker",
    "GpubrokerError": "gpubroker.errors",
    "Offer": "gpubroker.models",
    "ProviderStatus": "gpubroker.models",
    "Query": "gpubroker.models",
    "RankedOffer": "gpubroker.models",
    "SearchResult": "gpubroker.models",
    "Source": "gpubroker.models",
    "rank": "gpubroker.ranking",
    "search": "gpubroker.broker",
    "topsis": "gpubroker.ranking",
}

if TYPE_CHECKING:
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
    from gpubroker.ranking import rank, topsis  # type: ignore[no-redef]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gpubroker' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


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
