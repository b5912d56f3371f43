"""Offers: fan-out to providers with cache and catalog fallbacks, and the offers service.

- `collect`: ask every selected provider (live, cache or catalog) and report per provider;
- `service`: `OfferService`, what ``Broker.offers`` is: search, refresh, history, status.
"""

from __future__ import annotations

from gpubroker.offers.collect import (
    Collected,
    Mode,
    OfferCollector,
    known_providers,
    select_providers,
)
from gpubroker.offers.service import OfferService

__all__ = [
    "Collected",
    "Mode",
    "OfferCollector",
    "OfferService",
    "known_providers",
    "select_providers",
]
