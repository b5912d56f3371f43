"""Row accounting shared by the provider tests and the live tests.

Every row a provider returns becomes offers or a counted skip: ``kept + skipped == rows``,
where ``rows`` is counted from the raw answer, independently of the parser. And every GPU
an offer names resolves in the registry.
"""

from __future__ import annotations

from collections.abc import Iterable

from gpubroker import gpus
from gpubroker.models import Offer
from gpubroker.providers.base import FetchResult, Skips


def assert_accounted(rows: int, skips: Skips | FetchResult) -> None:
    """Every one of ``rows`` was kept or skipped, none twice."""
    if isinstance(skips, FetchResult):
        kept, skipped = skips.kept, dict(skips.skipped)
    else:
        kept, skipped = skips.kept, skips.as_dict()
    assert kept + sum(skipped.values()) == rows, (
        f"{rows} rows, but {kept} kept and {skipped} skipped"
    )


def unresolved(offers: Iterable[Offer]) -> set[str]:
    """Raw GPU names of offers whose model the registry does not know."""
    return {o.gpu_name_raw for o in offers if o.gpu_model not in gpus.GPUS}
