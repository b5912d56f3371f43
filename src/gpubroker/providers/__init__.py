"""Provider registry: one explicit dict, fed by one line per provider module.

Adding a provider = one module, one line here, one fixture dir, one test file
(``tests/providers/test_registry.py`` fails when any of them is missing).
"""

from __future__ import annotations

from gpubroker.errors import UnknownProviderError
from gpubroker.providers.aws import AwsProvider
from gpubroker.providers.azure import AzureProvider
from gpubroker.providers.base import CredentialSpec, Provider
from gpubroker.providers.gcp import GcpProvider
from gpubroker.providers.hyperstack import HyperstackProvider
from gpubroker.providers.lambdalabs import LambdaProvider
from gpubroker.providers.runpod import RunpodProvider
from gpubroker.providers.tensordock import TensordockProvider
from gpubroker.providers.vastai import VastaiProvider
from gpubroker.providers.verda import VerdaProvider
from gpubroker.providers.vultr import VultrProvider

PROVIDERS: dict[str, type[Provider]] = {
    VastaiProvider.name: VastaiProvider,
    RunpodProvider.name: RunpodProvider,
    LambdaProvider.name: LambdaProvider,
    AwsProvider.name: AwsProvider,
    AzureProvider.name: AzureProvider,
    VerdaProvider.name: VerdaProvider,
    VultrProvider.name: VultrProvider,
    HyperstackProvider.name: HyperstackProvider,
    TensordockProvider.name: TensordockProvider,
    GcpProvider.name: GcpProvider,
}


def get_provider(name: str) -> type[Provider]:
    """The provider class registered under ``name`` (case-insensitive).

    Raises:
        UnknownProviderError: listing the valid names.
    """
    key = name.strip().lower()
    try:
        return PROVIDERS[key]
    except KeyError:
        raise UnknownProviderError(name, sorted(PROVIDERS)) from None


__all__ = ["PROVIDERS", "CredentialSpec", "Provider", "get_provider"]
