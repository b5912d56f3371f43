"""Shared fixtures for provider tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gpubroker.http import make_client


@pytest.fixture
def sleeps() -> list[float]:
    """Backoff sleeps the retry transport asked for (none actually happen)."""
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[httpx.Client]:
    """The shared provider client, recording retry sleeps instead of sleeping."""
    with make_client(sleep=sleeps.append) as c:
        yield c
