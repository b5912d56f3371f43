"""Provider registry: one explicit table, fed by one line per provider module.

Adding a provider = one module, one line here, one fixture dir, one test file
(``tests/providers/test_registry.py`` fails when any of them is missing).

The provider classes are imported on first use of `PROVIDERS` (PEP 562): reading the
cache or the bundled catalog (``browse --offline``) never loads the HTTP client or the
providers' payload models, which would double its start-up time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gpubroker.errors import UnknownProviderError

if TYPE_CHECKING:
    from gpubroker.providers.base import CredentialSpec, Provider

    PROVIDERS: dict[str, type[Provider]]

#: Every registered provider: name -> (its module in this package, its class).
REGISTRY: dict[str, tuple[str, str]] = {
    "vastai": ("vastai", "VastaiProvider"),
    "runpod": ("runpod", "RunpodProvider"),
    "lambda": ("lambdalabs", "LambdaProvider"),
    "aws": ("aws", "AwsProvider"),
    "azure": ("azure", "AzureProvider"),
    "verda": ("verda", "VerdaProvider"),
    "vultr": ("vultr", "VultrProvider"),
    "hyperstack": ("hyperstack", "HyperstackProvider"),
    "tensordock": ("tensordock", "TensordockProvider"),
    "gcp": ("gcp", "GcpProvider"),
}


def _registry() -> dict[str, type[Provider]]:
    """`PROVIDERS`, built on first use: one dict for the process (tests may add fakes)."""
    loaded: dict[str, type[Provider]] | None = globals().get("PROVIDERS")
    if loaded is None:
        loaded = {
            name: getattr(importlib.import_module(f"{__name__}.{module}"), cls_name)
            for name, (module, cls_name) in REGISTRY.items()
        }
        globals()["PROVIDERS"] = loaded
    return loaded


def __getattr__(name: str) -> Any:
    if name == "PROVIDERS":
        return _registry()
    if name in ("CredentialSpec", "Provider"):
        from gpubroker.providers import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def provider_names() -> list[str]:
    """Names of the registered live providers, without importing their modules.

    Once `PROVIDERS` is loaded its keys are the truth (a test may register a fake there).
    """
    loaded: dict[str, type[Provider]] | None = globals().get("PROVIDERS")
    return list(loaded) if loaded is not None else list(REGISTRY)


def get_provider(name: str) -> type[Provider]:
    """The provider class registered under ``name`` (case-insensitive).

    Raises:
        UnknownProviderError: listing the valid names.
    """
    key = name.strip().lower()
    registry = _registry()
    try:
        return registry[key]
    except KeyError:
        raise UnknownProviderError(name, sorted(registry)) from None


__all__ = ["PROVIDERS", "REGISTRY", "CredentialSpec", "Provider", "get_provider", "provider_names"]
