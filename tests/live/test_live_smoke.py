"""Each no-auth provider answers its real API with plausible offers (GPUBROKER_LIVE=1)."""

from __future__ import annotations

import pytest

from gpubroker.http import make_client
from gpubroker.providers import PROVIDERS

NO_AUTH = sorted(name for name, cls in PROVIDERS.items() if not cls.needs_auth())


@pytest.mark.live
@pytest.mark.parametrize("name", NO_AUTH)
def test_provider_answers_live(name: str) -> None:
    provider = PROVIDERS[name]()
    with make_client(timeout_s=30) as client:
        offers = provider.fetch(client).offers
    assert offers, f"{name} returned no offers"
    assert all(o.price_per_hour_usd > 0 and o.gpu_count >= 1 for o in offers)
    assert len({o.id for o in offers}) == len(offers), "offer ids must be unique"
