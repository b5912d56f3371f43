"""Every provider that answers without an account, asked live (GPUBROKER_LIVE=1; never in CI).

The same invariants as the recorded-answer tests in tests/providers, on today's answer:

* offers come back, with positive prices, at least one GPU and unique ids;
* every row of the raw answer (counted here, independently of the parser) became offers or
  a skip counted by reason: ``kept + skipped == rows``;
* every GPU an offer names resolves in the registry (the failure lists the names to add).

Run: ``GPUBROKER_LIVE=1 pytest tests/live``. The usual ``GPUBROKER_<PROVIDER>_URL``
overrides are honoured (a mirror or a recording proxy), read before the tests scrub the
environment.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from gpubroker.http import make_client
from gpubroker.providers import PROVIDERS
from tests.providers.rows import assert_accounted, unresolved

NO_AUTH = sorted(name for name, cls in PROVIDERS.items() if not cls.needs_auth())
# Read at import, before the hermetic fixtures scrub GPUBROKER_* from the environment.
BASE_URLS = {name: os.environ.get(f"GPUBROKER_{name.upper()}_URL") for name in PROVIDERS}

Answers = list[tuple[str, Any]]


def _items(answers: Answers, path_end: str, key: str) -> int:
    return sum(
        len(body.get(key) or []) if isinstance(body, dict) else 0
        for path, body in answers
        if path.endswith(path_end)
    )


def _runpod_rows(answers: Answers) -> int:
    return sum(
        len(((body.get("data") or {}).get("gpuTypes")) or [])
        for path, body in answers
        if path.endswith("/graphql") and isinstance(body, dict)
    )


def _tensordock_rows(answers: Answers) -> int:
    rows = 0
    for path, body in answers:
        if not path.endswith("/locations") or not isinstance(body, dict):
            continue
        for location in (body.get("data") or {}).get("locations") or []:
            gpus = location.get("gpus") if isinstance(location, dict) else None
            # A location that cannot be read counts once, as the parser counts it.
            rows += len(gpus) if isinstance(gpus, list) else 1
    return rows


#: Rows of each provider's raw answers: what the parser must account for.
RAW_ROWS: dict[str, Callable[[Answers], int]] = {
    "vastai": lambda a: _items(a, "/bundles/", "offers"),
    "runpod": _runpod_rows,
    "vultr": lambda a: _items(a, "/plans", "plans") + _items(a, "/plans-metal", "plans_metal"),
    "azure": lambda a: _items(a, "/api/retail/prices", "Items"),
    "tensordock": _tensordock_rows,
}


def test_every_provider_asked_live_has_a_row_counter() -> None:
    assert set(NO_AUTH) <= set(RAW_ROWS)


@pytest.mark.live
@pytest.mark.parametrize("name", NO_AUTH)
def test_live_answer_keeps_the_invariants(name: str) -> None:
    answers: Answers = []

    def record(response: httpx.Response) -> None:
        response.read()
        with contextlib.suppress(ValueError):  # an HTML error page: the fetch reports it
            answers.append((response.request.url.path, response.json()))

    provider = PROVIDERS[name](base_url=BASE_URLS[name])
    with make_client(timeout_s=30) as client:
        client.event_hooks["response"].append(record)
        result = provider.fetch(client)
    offers = result.offers

    assert offers, f"{name} returned no offers"
    assert all(o.price_per_hour_usd > 0 and o.gpu_count >= 1 for o in offers)
    assert len({o.id for o in offers}) == len(offers), "offer ids must be unique"
    assert_accounted(RAW_ROWS[name](answers), result)
    missing = unresolved(offers)
    assert not missing, f"{name}: GPU names the registry does not know: {sorted(missing)}"
