"""gpubroker: find, rank and deploy GPU compute across providers.

The CLI is a thin shell over this library. Start with `Broker`, or the `search` shortcut::

    import gpubroker

    result = gpubroker.search(gpus=["h100"], max_price_usd=5, preset="cost", offline=True)
    for offer in result.offers[:3]:
        print(offer.rank, offer.provider, offer.gpu_model, offer.price_per_hour_usd)

    with gpubroker.Broker() as broker:            # Broker(home=..., profile=...)
        result = broker.search(gpubroker.Query(gpus=["a100"], min_gpus=2), offline=True)
        statuses = result.statuses                 # how each provider answered

What is here (``help(gpubroker.<name>)`` for each):

- `Broker`: every capability as a service: ``broker.offers`` (search, refresh, history),
  ``broker.gpus``, ``broker.keys``, ``broker.config``; ``broker.search(...)`` forwards.
- `search(**query_fields, **options)`: one search with a throwaway `Broker`.
- `Query`: the filters; `Offer`, `RankedOffer`, `SearchResult`, `ProviderStatus`,
  `Availability`, `Source`: the results (pydantic models; units in the field names).
- `rank(offers, preset=None, weights=None)`: TOPSIS ranking of any offers;
  `topsis(matrix, weights, benefit)`: the textbook closeness scores.
- `GpubrokerError`: base of every error raised on purpose; ``exc.exit_code`` is the CLI's.

Names are loaded on first use (PEP 562), so ``import gpubroker`` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Availability": "gpubroker.models",
    "Broker": "gpubroker.broker",
    "DeployPlan": "gpubroker.pods.models",
    "GpubrokerError": "gpubroker.errors",
    "Offer": "gpubroker.models",
    "Pod": "gpubroker.pods.models",
    "PodConfig": "gpubroker.pods.models",
    "PodStatus": "gpubroker.pods.models",
    "ProviderStatus": "gpubroker.models",
    "Query": "gpubroker.models",
    "RankedOffer": "gpubroker.models",
    "SearchResult": "gpubroker.models",
    "Source": "gpubroker.models",
    "rank": "gpubroker.ranking",
    "search": "gpubroker.broker",
    "topsis": "gpubroker.ranking",
}
#: Shown by ``dir()`` and so by ``help()``: the entry points. The pydantic models and the
#: error base are importable and in ``__all__``, but their inherited BaseModel methods
#: would bury ``help(gpubroker)`` under thousands of lines; the docstring lists them.
_SHOWN = ("Broker", "rank", "search", "topsis")

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
    from gpubroker.pods.models import DeployPlan, Pod, PodConfig, PodStatus
    from gpubroker.ranking import rank, topsis  # type: ignore[no-redef]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gpubroker' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    hidden = set(_EXPORTS) - set(_SHOWN)
    return sorted(name for name in {*globals(), *_SHOWN} if name not in hidden)


__all__ = [
    "Availability",
    "Broker",
    "DeployPlan",
    "GpubrokerError",
    "Offer",
    "Pod",
    "PodConfig",
    "PodStatus",
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
