"""The hosted admin API: `AdminClient` (httpx, one method per route), its payload models,
one error decoder, and the services behind ``broker.account`` and ``broker.admin``.

Names are loaded on first use so that importing a submodule stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AccountService": "gpubroker.api.service",
    "AdminClient": "gpubroker.api.client",
    "AdminService": "gpubroker.api.service",
    "AgentService": "gpubroker.api.service",
}

if TYPE_CHECKING:
    from gpubroker.api.client import AdminClient
    from gpubroker.api.service import AccountService, AdminService, AgentService


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gpubroker.api' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["AccountService", "AdminClient", "AdminService", "AgentService"]
