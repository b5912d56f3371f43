"""Live smoke tests: real provider APIs, only with GPUBROKER_LIVE=1 (never in CI)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

LIVE = os.environ.get("GPUBROKER_LIVE") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="live API test: set GPUBROKER_LIVE=1 to run")
    for item in items:
        # The marker, not the keyword: every test in this directory has "live" as a keyword.
        if item.get_closest_marker("live") is not None and not LIVE:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def http_mock() -> Iterator[None]:
    """Overrides the hermetic router: these tests talk to the real APIs."""
    yield None
