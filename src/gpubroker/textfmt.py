"""Small pure text helpers shared by the library's messages and the renderer."""

from __future__ import annotations

from collections.abc import Sequence

SPARK_CHARS = "▁▂▃▄▅▆▇█"


def humanize_age(seconds: float) -> str:
    """``42s``, ``5m``, ``3.5h``, ``12d``."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.0f}d"


def sparkline(values: Sequence[float]) -> str:
    """A terminal sparkline of values (empty for no values, mid-height when flat)."""
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = hi - lo
    if span == 0:
        return SPARK_CHARS[len(SPARK_CHARS) // 2] * len(values)
    top = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[min(top, int((v - lo) / span * top + 0.5))] for v in values)
