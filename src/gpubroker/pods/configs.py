"""POD config drafts in SQLite (``broker.pods.configs``): create, list, show, update, delete,
validate and estimate.

A config is a reusable description of a POD: which GPU offer to pick and how (the hosted
API's pod-config fields, units in the names), plus the agent's image, Fargate size and
budget. Input is checked when it is stored (names, GPU, provider, selection mode, Fargate
size, provider limits); the checks that need offers (the chosen offer, plan limits, budget)
run in `PodConfigService.validate`, which records the verdict and the estimate.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gpubroker import gpus
from gpubroker.errors import NotFoundError, RefusedError, UsageError
from gpubroker.pods import fargate, limits
from gpubroker.pods.estimate import parse_budget
from gpubroker.pods.models import (
    CONFIG_INPUT_FIELDS,
    ConfigStatus,
    Estimate,
    PodConfig,
    SelectionMode,
    ValidationReport,
)

if TYPE_CHECKING:
    from gpubroker.pods.service import PodService, Selection
    from gpubroker.runtime import Runtime

_JSON_COLUMNS = ("validation_errors", "tags", "metadata")
_BOOL_COLUMNS = ("public_ip", "spot_instance", "is_valid")


@dataclass
class ConfigCheck:
    """`PodConfigService.validate`'s answer: the config as stored after the check, the
    report, and the estimate (None when no offer matched)."""

    config: PodConfig
    report: ValidationReport
    estimate: Estimate | None
    selection: Selection | None


def config_to_row(cfg: PodConfig) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in cfg.model_dump().items():
        if key in _JSON_COLUMNS:
            row[key] = json.dumps(value, sort_keys=True)
        elif isinstance(value, bool):
            row[key] = int(value)
        elif isinstance(value, StrEnum):
            row[key] = value.value
        elif hasattr(value, "isoformat"):
            row[key] = value.isoformat()
        else:
            row[key] = value
    return row


def config_from_row(row: Mapping[str, Any]) -> PodConfig:
    data = dict(row)
    for key in _JSON_COLUMNS:
        data[key] = json.loads(data.get(key) or ("{}" if key == "metadata" else "[]"))
    for key in _BOOL_COLUMNS:
        if data.get(key) is not None:
            data[key] = bool(data[key])
    return PodConfig.model_validate(data)


def _usage(exc: ValidationError) -> UsageError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "config"
    return UsageError(
        f"{field}: {first['msg']}", param=str(first["loc"][0]) if first["loc"] else None
    )


class PodConfigService:
    """POD config drafts.

    Args:
        runtime: the composition root (store, clock, settings).
        pods: the POD service (offer selection, estimates, validation rules).
    """

    def __init__(self, runtime: Runtime, pods: PodService) -> None:
        self.runtime = runtime
        self.pods = pods

    # -- reading --------------------------------------------------------------------------

    def list(self) -> list[PodConfig]:
        """Every config, by name."""
        return [config_from_row(r) for r in self.runtime.store.pod_configs()]

    def get(self, ref: str) -> PodConfig:
        """A config by id or name.

        Raises:
            NotFoundError: no such config.
        """
        row = self.runtime.store.pod_config(ref)
        if row is None:
            raise NotFoundError(
                f"no config named {ref!r} or with that id",
                hint="`gpubroker configs list` shows them",
            )
        return config_from_row(row)

    # -- writing --------------------------------------------------------------------------

    def create(self, name: str, *, budget: str | None = None, **fields: Any) -> PodConfig:
        """Store a new draft.

        Args:
            name: unique config name.
            budget: ``5/h``, ``3000/month`` or both, comma-separated (a bare number is
                per month); sets ``budget_per_hour_usd`` / ``budget_per_month_usd``.
            **fields: any of `gpubroker.pods.models.CONFIG_INPUT_FIELDS`; ``cpu_units`` and
                ``memory_mib`` also accept ``1``/``"0.5"`` vCPUs and ``"4GB"``.

        Raises:
            UsageError: an unknown field or a bad value (exit 2).
            RefusedError: the name is taken, or the size/limits rules refuse it (exit 6).
        """
        now = self.runtime.now()
        data = self._input({"name": name, **fields}, budget)
        try:
            cfg = PodConfig(id=secrets.token_hex(8), created_at=now, updated_at=now, **data)
        except ValidationError as exc:
            raise _usage(exc) from None
        self._check(cfg)
        self.runtime.store.insert_pod_config(config_to_row(cfg))
        return cfg

    def update(
        self,
        ref: str,
        *,
        budget: str | None = None,
        clear: Sequence[str] = (),
        **changes: Any,
    ) -> PodConfig:
        """Change some fields (None leaves a field as it is; ``clear`` resets fields to their
        defaults). The config becomes a draft again and loses its old estimate.

        Raises:
            NotFoundError: no such config.
            UsageError / RefusedError: as for `create`.
        """
        cfg = self.get(ref)
        for key in clear:
            if key not in CONFIG_INPUT_FIELDS or key == "name":
                raise UsageError(
                    f"{key!r} is not a field that can be reset; fields (as `configs show` "
                    "names them): " + ", ".join(f for f in CONFIG_INPUT_FIELDS if f != "name")
                )
        data = self._input({k: v for k, v in changes.items() if v is not None}, budget)
        merged = cfg.model_dump()
        for key in clear:
            merged[key] = PodConfig.model_fields[key].get_default(call_default_factory=True)
            if key == "gpu_type":
                merged["gpu_model"] = None
        merged.update(data)
        merged.update(
            status=ConfigStatus.DRAFT,
            is_valid=None,
            validation_errors=[],
            estimated_price_per_hour_usd=None,
            estimated_price_per_day_usd=None,
            estimated_price_per_month_usd=None,
            updated_at=self.runtime.now(),
        )
        try:
            new = PodConfig.model_validate(merged)
        except ValidationError as exc:
            raise _usage(exc) from None
        self._check(new)
        row = config_to_row(new)
        del row["id"], row["created_at"]
        self.runtime.store.update_pod_config(cfg.id, row)
        return new

    def delete(self, ref: str) -> PodConfig:
        """Delete a config (PODs deployed from it keep their own copy of everything)."""
        cfg = self.get(ref)
        self.runtime.store.delete_pod_config(cfg.id)
        return cfg

    def _input(self, fields: dict[str, Any], budget: str | None) -> dict[str, Any]:
        unknown = sorted(set(fields) - set(CONFIG_INPUT_FIELDS))
        if unknown:
            raise UsageError(
                f"unknown config field {unknown[0]!r}; fields: {', '.join(CONFIG_INPUT_FIELDS)}"
            )
        data = dict(fields)
        if "name" in data:
            from gpubroker.pods.records import check_name

            check_name(str(data["name"]))
        if data.get("gpu_type") is not None:
            gpu = str(data["gpu_type"]).strip()
            specs = gpus.resolve_query(gpu)  # UnknownGPUError with suggestions
            data["gpu_type"] = gpu
            data["gpu_model"] = specs[0].name if len(specs) == 1 else None
        if data.get("provider") is not None:
            from gpubroker.offers.collect import select_providers

            data["provider"] = select_providers([str(data["provider"])])[0]
        if data.get("provider_selection_mode") is not None:
            mode = str(data["provider_selection_mode"]).strip().lower()
            valid = [m.value for m in SelectionMode]
            if mode not in valid:
                raise UsageError(
                    f"unknown selection mode {mode!r}; modes: {', '.join(valid)}",
                    param="provider_selection_mode",
                )
            data["provider_selection_mode"] = mode
        if data.get("image") is not None:
            from gpubroker.pods.records import check_text

            data["image"] = check_text(str(data["image"]), "image")
        if data.get("cpu_units") is not None:
            data["cpu_units"] = fargate.parse_cpu(data["cpu_units"])
        if data.get("memory_mib") is not None:
            data["memory_mib"] = fargate.parse_memory(data["memory_mib"])
        if budget is not None:
            parsed = parse_budget(budget)
            data["budget_per_hour_usd"] = parsed.per_hour_usd
            data["budget_per_month_usd"] = parsed.per_month_usd
        return data

    def _check(self, cfg: PodConfig) -> None:
        """The rules that need no offer: selection mode, Fargate size, provider limits."""
        if cfg.provider_selection_mode is SelectionMode.MANUAL and not (
            cfg.provider or cfg.provider_offer_id
        ):
            raise UsageError(
                "manual selection needs a provider or an offer id",
                param=("provider_selection_mode",),
            )
        if cfg.provider_offer_id:
            offer_provider = cfg.provider_offer_id.split(":", 1)[0]
            if cfg.provider and offer_provider != cfg.provider:
                raise UsageError(
                    f"offer {cfg.provider_offer_id} is not a {cfg.provider} offer",
                    param="provider_offer_id",
                )
        if cfg.cpu_units is not None or cfg.memory_mib is not None:
            self.pods.checked_size(None, None, cfg)
        issues = limits.check_request(
            cfg.provider or (cfg.provider_offer_id or "").split(":", 1)[0] or None,
            gpu_count=cfg.gpu_count,
            vcpus=cfg.vcpus,
            ram_gib=cfg.ram_gib,
        )
        if issues:
            raise RefusedError(f"refused ({ValidationReport(errors=issues).summary()})")

    # -- checking -------------------------------------------------------------------------

    def validate(
        self,
        ref: str,
        *,
        owner: str | None = None,
        plan: str | None = None,
        offline: bool = False,
        fresh: bool = False,
        on_progress: Callable[[Any], None] | None = None,
    ) -> ConfigCheck:
        """Pick the config's offer and run every deploy rule; record the verdict.

        No AWS call is made. A config whose selection matches no offer is invalid (rule
        ``offer``) rather than an error.
        """
        cfg = self.get(ref)
        pods = self.pods
        from gpubroker.pods.models import Budget, ValidationIssue

        cpu_units, memory_mib = pods.size(None, None, cfg)
        who = pods.effective_owner(owner)
        plan_name = pods.effective_plan(plan)
        selection = None
        est = None
        try:
            selection = pods.select(
                config=cfg, offline=offline, fresh=fresh, on_progress=on_progress
            )
        except NotFoundError as exc:
            report = ValidationReport(errors=[ValidationIssue(rule="offer", message=exc.message)])
        else:
            est = selection.estimate(cpu_units, memory_mib)
            report = pods.validate(selection, est, owner=who, plan=plan_name, budget=Budget.of(cfg))
        changes: dict[str, Any] = {
            "status": ConfigStatus.VALID if report.is_valid else ConfigStatus.INVALID,
            "is_valid": report.is_valid,
            "validation_errors": [f"{e.rule}: {e.message}" for e in report.errors],
            "estimated_price_per_hour_usd": est.price_per_hour_usd if est else None,
            "estimated_price_per_day_usd": est.price_per_day_usd if est else None,
            "estimated_price_per_month_usd": est.price_per_month_usd if est else None,
        }
        checked = cfg.model_copy(update=changes)
        row = config_to_row(checked)
        self.runtime.store.update_pod_config(cfg.id, {k: row[k] for k in changes})
        return ConfigCheck(config=checked, report=report, estimate=est, selection=selection)
