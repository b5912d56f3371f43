"""`gpubroker doctor`: check the set-up, one line per check, each with the fix.

Checks, in order: the config file and profile, the home directory, the database, the OS
keyring, each provider's credentials (and, unless offline, whether its API answers), the
AWS identity and ECS access, and the hosted API. A check is ``ok``, ``warn`` (works, but
something is worth knowing) or ``fail`` (something the user asked for will not work).
Nothing here changes any state: the database is opened read-only.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from gpubroker.errors import GpubrokerError

if TYPE_CHECKING:
    from gpubroker.runtime import Runtime


class Level(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: what was checked, how it went, what was seen, and how to fix it."""

    check: str
    status: Level
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["status"] = self.status.value
        return row


class DoctorService:
    """Runs the checks (``Broker.doctor``).

    Args:
        runtime: the composition root.
        network: when False, nothing is asked over the network (those checks are skipped).
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def run(self, *, network: bool = True, timeout_s: float = 5.0) -> list[Check]:
        """Every check, in order. Never raises for what it finds."""
        checks: list[Check] = []
        for step in self._steps(network, timeout_s):
            try:
                checks.extend(step())
            except GpubrokerError as exc:  # a check that cannot even run is a failure
                checks.append(
                    Check(step.__name__.lstrip("_"), Level.FAIL, exc.message, exc.hint or "")
                )
        return checks

    def _steps(self, network: bool, timeout_s: float) -> Iterator[Callable[[], list[Check]]]:
        yield self._config
        yield self._home
        yield self._database
        yield self._keyring
        yield lambda: self._providers(network, timeout_s)
        yield lambda: self._aws(network)
        yield lambda: self._hosted_api(network, timeout_s)
        yield lambda: _hosted_api_credentials_of(self.runtime)

    # -- local ----------------------------------------------------------------------------

    def _config(self) -> list[Check]:
        rt = self.runtime
        path = rt.config_path
        try:
            settings = rt.settings
        except GpubrokerError as exc:
            return [
                Check(
                    "config",
                    Level.FAIL,
                    exc.message,
                    "fix the value with `gpubroker config set KEY VALUE`, or edit the file",
                )
            ]
        where = str(path) if path.exists() else f"{path} (not created yet: defaults apply)"
        checks = [Check("config", Level.OK, f"profile {rt.profile!r} from {where}")]
        checks += [
            Check("config", Level.WARN, note, "remove or rename the key in the file")
            for note in rt.notes
        ]
        if settings.offline:
            checks.append(
                Check(
                    "config",
                    Level.WARN,
                    "offline is set: browse never asks providers",
                    "`gpubroker config unset offline` to search live",
                )
            )
        return checks

    def _home(self) -> list[Check]:
        home = self.runtime.home
        if not home.is_dir():
            return [
                Check(
                    "home",
                    Level.FAIL,
                    f"{home} does not exist and cannot be created",
                    "set GPUBROKER_HOME to a writable directory",
                )
            ]
        if not os.access(home, os.W_OK):
            return [
                Check(
                    "home",
                    Level.WARN,
                    f"{home} is read-only: nothing can be cached",
                    "make it writable, or set GPUBROKER_HOME to a writable directory",
                )
            ]
        mode = home.stat().st_mode & 0o777
        if mode & 0o077:
            return [
                Check(
                    "home",
                    Level.WARN,
                    f"{home} is readable by others (mode {mode:o})",
                    f"chmod 700 {home}",
                )
            ]
        return [Check("home", Level.OK, f"{home} (mode {mode:o})")]

    def _database(self) -> list[Check]:
        path = self.runtime.db_path
        if not path.exists():
            return [Check("database", Level.OK, f"{path} not created yet (first search does)")]
        from gpubroker.store import MIGRATIONS

        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
            try:
                verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
                applied = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return [
                Check(
                    "database",
                    Level.FAIL,
                    f"{path}: {exc}",
                    f"it holds only a cache and history: move {path} aside and retry",
                )
            ]
        if verdict != "ok":
            return [
                Check(
                    "database",
                    Level.FAIL,
                    f"{path}: integrity check says {verdict}",
                    f"move {path} aside; gpubroker starts a new one",
                )
            ]
        known = {name for name, _ in MIGRATIONS}
        pending = sorted(known - applied)
        newer = sorted(applied - known)
        size = _human_bytes(path.stat().st_size)
        if newer:
            return [
                Check(
                    "database",
                    Level.WARN,
                    f"{path} ({size}) was written by a newer gpubroker ({newer[0]})",
                    "upgrade gpubroker",
                )
            ]
        if pending:
            return [
                Check(
                    "database",
                    Level.OK,
                    f"{path} ({size}); {len(pending)} migration(s) apply on next use",
                )
            ]
        return [Check("database", Level.OK, f"{path} ({size}), schema up to date")]

    def _keyring(self) -> list[Check]:
        from gpubroker import credentials

        backend = credentials.backend_name()
        if backend is None:
            return [
                Check(
                    "keyring",
                    Level.WARN,
                    "no usable OS keyring: keys cannot be stored",
                    "use environment variables (see `gpubroker keys list`), or install and"
                    " unlock a keyring backend",
                )
            ]
        return [Check("keyring", Level.OK, backend)]

    # -- remote ---------------------------------------------------------------------------

    def _providers(self, network: bool, timeout_s: float) -> list[Check]:
        from gpubroker import credentials
        from gpubroker.providers import PROVIDERS

        chosen = self.runtime.settings.providers or list(PROVIDERS)
        checks: list[Check] = []
        client = self.runtime.http_client() if network else None
        try:
            for name in chosen:
                cls = PROVIDERS.get(name)
                if cls is None:
                    checks.append(Check(f"provider {name}", Level.OK, "catalog prices only"))
                    continue
                states = credentials.states(cls)
                missing = [s for s in states if s.required and s.source == "missing"]
                sources = ", ".join(_source(s) for s in states) or (
                    "AWS credential chain" if name == "aws" else "no key needed"
                )
                if missing:
                    env = " and ".join(s.env_var for s in missing)
                    checks.append(
                        Check(
                            f"provider {name}",
                            Level.WARN,
                            f"no credentials ({sources}): catalog prices shown instead",
                            f"`gpubroker keys set {name}` or set {env}",
                        )
                    )
                    continue
                if client is None or not cls.default_base_url:
                    checks.append(Check(f"provider {name}", Level.OK, sources))
                    continue
                base = cls.env_base_url() or cls.default_base_url
                checks.append(self._reach(f"provider {name}", base, client, timeout_s, sources))
        finally:
            if client is not None:
                client.close()
        return checks

    @staticmethod
    def _reach(label: str, url: str, client: Any, timeout_s: float, detail: str) -> Check:
        """Any HTTP answer means the service is reachable; only the network failing is not."""
        import httpx

        start = time.monotonic()
        try:
            response = client.get(url, timeout=timeout_s, follow_redirects=False)
        except httpx.HTTPError as exc:
            return Check(
                label,
                Level.FAIL,
                f"{detail}; {url} unreachable ({type(exc).__name__})",
                "check the network, proxy settings (HTTPS_PROXY) and the URL override",
            )
        ms = (time.monotonic() - start) * 1000
        return Check(
            label, Level.OK, f"{detail}; reachable (HTTP {response.status_code}, {ms:.0f} ms)"
        )

    def _aws(self, network: bool) -> list[Check]:
        if not network:
            return [Check("aws", Level.SKIP, "not checked (offline)")]
        from gpubroker.remote import translate_errors

        try:
            with translate_errors("sts"):
                identity = self.runtime.aws_client("sts", None).get_caller_identity()
        except GpubrokerError as exc:
            return [
                Check(
                    "aws",
                    Level.WARN,
                    f"no usable AWS identity: {exc.message}",
                    "needed for AWS prices, alerts and PODs: configure AWS_PROFILE or"
                    " ~/.aws/credentials",
                )
            ]
        checks = [Check("aws", Level.OK, f"identity {identity.get('Arn', '?')}")]
        try:
            with translate_errors("ecs"):
                clusters = self.runtime.aws_client("ecs", None).list_clusters(maxResults=10)
        except GpubrokerError as exc:
            checks.append(
                Check(
                    "ecs",
                    Level.WARN,
                    f"cannot list ECS clusters: {exc.message}",
                    "grant ecs:ListClusters (and the POD permissions) to this identity",
                )
            )
        else:
            count = len(clusters.get("clusterArns", []))
            checks.append(Check("ecs", Level.OK, f"ECS reachable ({count} cluster(s) listed)"))
        return checks

    def _hosted_api(self, network: bool, timeout_s: float) -> list[Check]:
        url = self.runtime.settings.api_url
        if not network:
            return [Check("hosted api", Level.SKIP, f"{url} not checked (offline)")]
        from gpubroker.http import make_client

        with make_client(timeout_s=timeout_s, attempts=1) as client:
            return [
                self._reach(
                    "hosted api", f"{url}/api/v2/admin/public/health", client, timeout_s, url
                )
            ]


def _hosted_api_credentials_of(runtime: Runtime) -> list[Check]:
    from gpubroker.api.service import AccountService

    status = AccountService(runtime).auth_status()
    checks: list[Check] = []
    if not status.logged_in:
        checks.append(Check("api token", Level.OK, "none (only operators need one)"))
    elif status.expired:
        checks.append(Check("api token", Level.WARN,
                            f"from {status.source}, expired at {status.expires_at}",
                            "`gpubroker auth login` (or a fresh GPUBROKER_TOKEN)"))  # fmt: skip
    else:
        who = status.email or status.user_id or "unknown user"
        role = f", role {status.role}" if status.role else ""
        left = f", expires in {status.expires_in_s // 60} min" if status.expires_in_s else ""
        checks.append(Check("api token", Level.OK, f"from {status.source}: {who}{role}{left}"))
    key = status.api_key_source or "missing"
    if key == "missing":
        checks.append(Check("api key", Level.OK, "none (`gpubroker activate` stores one)"))
    elif "unusable" in key:
        checks.append(
            Check(
                "api key",
                Level.FAIL,
                f"stored in a {key}",
                "`gpubroker auth logout --api-key`, then `gpubroker activate`",
            )
        )
    else:
        checks.append(Check("api key", Level.OK, f"from {key}"))
    return checks


def _source(state: Any) -> str:
    if state.source == "missing":
        return f"{state.field} not set" + ("" if state.required else " (optional)")
    return f"{state.field} from {state.source}"


def _human_bytes(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


def worst(checks: list[Check]) -> Level:
    """The most severe status among the checks."""
    levels = {c.status for c in checks}
    for level in (Level.FAIL, Level.WARN):
        if level in levels:
            return level
    return Level.OK


__all__ = ["Check", "DoctorService", "Level", "worst"]
