"""The one place that builds HTTP clients, with retries for idempotent requests.

`RetryTransport` wraps any httpx transport (so respx and mock transports still work).
What it retries, exactly:

- which requests: ``GET``, ``HEAD`` and ``OPTIONS``, plus any request carrying the
  ``gpubroker_idempotent`` extension set to True (a POST that only searches, such as
  Vast.ai's bundles search or RunPod's GraphQL query). Any other ``POST``, ``PUT``,
  ``PATCH`` or ``DELETE`` is sent once: a retry could repeat its effect.
- on what: HTTP 429, 502, 503 and 504 (not 500, which is a server bug more often than a
  passing fault), connection errors, read timeouts and dropped connections.
- how: up to ``attempts`` tries, exponential backoff with full jitter, or the server's
  ``Retry-After`` when it sends one (a wait longer than ``max_wait_s`` gives up instead).
  It never sleeps past the request's deadline, which callers pass as the
  ``gpubroker_deadline`` extension (a ``time.monotonic()`` value).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from gpubroker import __version__

USER_AGENT = f"gpubroker/{__version__} (+https://github.com/gpubroker/gpubroker)"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEADLINE_EXTENSION = "gpubroker_deadline"
IDEMPOTENT_EXTENSION = "gpubroker_idempotent"


def is_retryable(request: httpx.Request) -> bool:
    """True for requests that are safe to send twice (see the module doc)."""
    return request.method in IDEMPOTENT_METHODS or bool(
        request.extensions.get(IDEMPOTENT_EXTENSION)
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryTransport(httpx.BaseTransport):
    """Retry idempotent requests on throttling, 502/503/504 and transient network errors.

    Args:
        inner: the transport that really sends requests.
        attempts: total tries, including the first.
        backoff_s: base delay; try n waits a random time in ``[0, backoff_s * 2**n]``.
        max_wait_s: cap on any single wait (a longer Retry-After gives up instead).
        sleep: injectable for tests.
    """

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        attempts: int = 3,
        backoff_s: float = 0.25,
        max_wait_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.sleep = sleep
        self.rng = rng or random.Random()

    def _wait(self, attempt: int, retry_after: float | None, deadline: float | None) -> bool:
        """Sleep before the next try; False when there is no time or reason to retry."""
        if retry_after is not None:
            delay = retry_after
        else:
            delay = self.rng.uniform(0, self.backoff_s * (2**attempt))
        if delay > self.max_wait_s:
            return False
        if deadline is not None and time.monotonic() + delay >= deadline:
            return False
        self.sleep(delay)
        return True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not is_retryable(request):
            return self.inner.handle_request(request)
        deadline = request.extensions.get(DEADLINE_EXTENSION)
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            try:
                response = self.inner.handle_request(request)
            except (httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError):
                if last or not self._wait(attempt, None, deadline):
                    raise
                continue
            if response.status_code not in RETRY_STATUSES or last:
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if not self._wait(attempt, retry_after, deadline):
                return response
            response.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.inner.close()


def make_client(
    *,
    timeout_s: float = 10.0,
    transport: httpx.BaseTransport | None = None,
    attempts: int = 3,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Client:
    """Build the shared, thread-safe client used for provider fetches.

    Args:
        timeout_s: per-request timeout (connect, read, write, pool).
        transport: the inner transport (tests pass a mock transport).
        attempts: tries per request for retryable failures.
        sleep: injectable sleep for retry backoff.
    """
    return httpx.Client(
        timeout=httpx.Timeout(timeout_s),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        transport=RetryTransport(transport, attempts=attempts, sleep=sleep),
        follow_redirects=True,
        trust_env=True,
    )
