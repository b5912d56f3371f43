"""Names shared by the library and the CLI, importable without pydantic or the models.

The CLI builds its options and help from these, so ``gpubroker --help`` stays fast;
tests check that each tuple equals what the library really accepts.
"""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    """Output formats of every command that prints data."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    TSV = "tsv"
    MARKDOWN = "markdown"


class EnvVars:
    """Every environment variable gpubroker reads (provider keys live on their CredentialSpec)."""

    HOME = "GPUBROKER_HOME"
    CONFIG = "GPUBROKER_CONFIG"
    PROFILE = "GPUBROKER_PROFILE"
    DEBUG = "GPUBROKER_DEBUG"
    TOKEN = "GPUBROKER_TOKEN"
    API_KEY = "GPUBROKER_API_KEY"
    NO_COLOR = "NO_COLOR"
    SETTING_PREFIX = "GPUBROKER_"


#: Ranking presets (`gpubroker.ranking.criteria.PRESETS` has exactly these keys).
PRESET_NAMES: tuple[str, ...] = ("cost", "balanced", "performance", "reliability", "value")
#: ``--group-by`` choices.
GROUP_BY: tuple[str, ...] = ("gpu", "provider", "region")
#: ``--sort`` fields.
SORT_FIELDS: tuple[str, ...] = (
    "rank", "score", "price", "price_per_gpu", "vram", "total_vram", "gpus", "vcpus", "ram",
    "disk", "reliability", "provider", "region", "gpu", "tflops",
)  # fmt: skip

__all__ = ["GROUP_BY", "PRESET_NAMES", "SORT_FIELDS", "EnvVars", "OutputFormat"]
