"""Small pure text helpers shared by the library's messages and the renderer."""

from __future__ import annotations

import re
import unicodedata
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


# C0/C1 control characters (ESC starts terminal escape sequences), DEL, and the Unicode
# format characters that reorder or hide text: bidi embeddings/overrides/isolates, marks,
# zero-width characters and the BOM.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)")


def sanitize(text: str, *, keep_newlines: bool = False) -> str:
    """Untrusted text made safe to store and print.

    Whole terminal escape sequences (CSI colours, OSC window titles and hyperlinks) are
    removed, then every remaining control character and bidi override; other Unicode
    is kept (NFC-normalised). Rich markup is not touched here: the renderer prints data
    as plain text, never as markup.
    """
    if not text:
        return text
    cleaned = _ESCAPE_SEQUENCE.sub("", text)
    if keep_newlines:
        cleaned = "\n".join(_UNSAFE.sub("", line) for line in cleaned.split("\n"))
    else:
        cleaned = _UNSAFE.sub("", cleaned.replace("\t", " ").replace("\n", " "))
    return unicodedata.normalize("NFC", cleaned)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|days|w|wk)?\s*$", re.I)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400,
           "days": 86400, "w": 604800, "wk": 604800}  # fmt: skip


def parse_duration_s(text: str) -> float | None:
    """Seconds in ``90s``, ``10m``, ``1.5h``, ``30d``, ``2w`` (a bare number is seconds);
    None when ``text`` is not a positive duration."""
    match = _DURATION.match(text)
    if not match:
        return None
    seconds = float(match.group(1)) * _UNIT_S[(match.group(2) or "s").lower()]
    return seconds if seconds > 0 else None
