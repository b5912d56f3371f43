"""`gpubroker configs`: drafts in SQLite, checked when stored and when validated."""

from __future__ import annotations

import json

import pytest

from tests.pods.conftest import OFFER, run


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUBROKER_OFFLINE", "true")


def test_create_list_show_update_delete() -> None:
    result = run(
        "configs",
        "create",
        "h100-agent",
        "--gpu",
        "H100",
        "--mode",
        "auto_cheapest",
        "--budget",
        "5/h,2000/month",
        "--cpu",
        "2",
        "--memory",
        "4GB",
        "--tag",
        "team-a",
        "--json",
    )
    assert result.exit_code == 0, result.output
    cfg = json.loads(result.stdout)
    assert cfg["name"] == "h100-agent" and cfg["status"] == "draft"
    assert cfg["gpu_type"] == "H100" and cfg["gpu_model"] is None  # a family: several models
    assert (cfg["cpu_units"], cfg["memory_mib"]) == (2048, 4096)
    assert (cfg["budget_per_hour_usd"], cfg["budget_per_month_usd"]) == (5.0, 2000.0)
    assert cfg["provider_selection_mode"] == "auto_cheapest" and cfg["tags"] == ["team-a"]

    listed = json.loads(run("configs", "list", "--json").stdout)
    assert [c["name"] for c in listed] == ["h100-agent"]
    table = run("configs", "list").stdout
    assert "cheapest" in table and "5/h, 2000/mo" in table
    shown = json.loads(run("configs", "show", cfg["id"], "--json").stdout)
    assert shown == cfg

    result = run(
        "configs",
        "update",
        "h100-agent",
        "--gpu",
        "h100 sxm",
        "--gpu-count",
        "2",
        "--clear",
        "budget-per-hour-usd",
        "--rename",
        "big",
        "--json",
    )
    assert result.exit_code == 0, result.output
    updated = json.loads(result.stdout)
    assert updated["name"] == "big" and updated["gpu_model"] == "H100-SXM"
    assert updated["gpu_count"] == 2 and updated["budget_per_hour_usd"] is None
    assert updated["budget_per_month_usd"] == 2000.0 and updated["id"] == cfg["id"]

    assert run("configs", "delete", "big").exit_code == 6  # no terminal, no --yes
    assert run("configs", "delete", "big", "--yes").exit_code == 0
    result = run("configs", "show", "big")
    assert result.exit_code == 3 and "no config named 'big'" in result.stderr


def test_input_is_checked_when_stored() -> None:
    assert run("configs", "create", "a", "--gpu", "H100").exit_code == 0
    result = run("configs", "create", "a")
    assert result.exit_code == 6 and "a config named 'a' already exists" in result.stderr
    result = run("configs", "create", "b", "--gpu", "h1000")
    assert result.exit_code == 2 and "unknown GPU 'h1000'; did you mean" in result.stderr
    result = run("configs", "create", "b", "--mode", "fastest")
    assert result.exit_code == 2 and "unknown selection mode 'fastest'" in result.stderr
    result = run("configs", "create", "b", "--mode", "manual")
    assert result.exit_code == 2 and "manual selection needs a provider or an offer id" in (
        result.stderr
    )
    result = run("configs", "create", "b", "--provider", "nosuch")
    assert result.exit_code == 2 and "unknown provider 'nosuch'" in result.stderr
    result = run("configs", "create", "b", "--cpu", "1024", "--memory", "16GB")
    assert result.exit_code == 6 and "refused (fargate)" in result.stderr
    result = run("configs", "create", "b", "--provider", "lambda", "--gpu-count", "16")
    assert result.exit_code == 6 and "provider_limits: lambda machines have 1–8 GPUs" in (
        result.stderr
    )
    result = run("configs", "create", "b", "--provider", "aws", "--offer", OFFER)
    assert result.exit_code == 2 and "is not a aws offer" in result.stderr
    result = run("configs", "create", "b", "--vcpus", "nan")
    assert result.exit_code == 2 and "--vcpus" in result.stderr
    result = run("configs", "create", "b", "--max-spot-price", "inf")
    assert result.exit_code == 2 and "--max-spot-price" in result.stderr
    result = run("configs", "create", "b\x1b[31m")
    assert result.exit_code == 2 and "--name" in result.stderr
    result = run("configs", "update", "a", "--clear", "colour")
    assert result.exit_code == 2 and "'colour' is not a field that can be reset" in result.stderr
    # nothing already stored was lost
    assert [c["name"] for c in json.loads(run("configs", "list", "--json").stdout)] == ["a"]


def test_validate_records_the_verdict_and_the_estimate() -> None:
    run("configs", "create", "cheap", "--gpu", "H100", "--mode", "auto_cheapest", "--budget", "9/h")
    result = run("configs", "validate", "cheap", "--json")
    assert result.exit_code == 0, result.output
    check = json.loads(result.stdout)
    assert check["is_valid"] is True and check["errors"] == []
    est = check["estimate"]
    cfg = json.loads(run("configs", "show", "cheap", "--json").stdout)
    assert cfg["status"] == "valid" and cfg["is_valid"] is True
    assert cfg["estimated_price_per_hour_usd"] == est["price_per_hour_usd"]
    assert cfg["estimated_price_per_month_usd"] == est["price_per_month_usd"]
    # auto_cheapest: the cheapest on-demand H100 (a config asks for on-demand unless --spot)
    browse = run(
        "browse", "--gpu", "H100", "--on-demand", "--available", "--sort", "price", "--json"
    )
    browse = json.loads(browse.stdout)
    assert est["breakdown_per_hour_usd"]["gpu_offer"] == browse[0]["price_per_hour_usd"]

    run("configs", "update", "cheap", "--budget", "0.5/h")
    assert json.loads(run("configs", "show", "cheap", "--json").stdout)["status"] == "draft"
    result = run("configs", "validate", "cheap")
    assert result.exit_code == 6
    assert "budget" in result.stdout and "config cheap is invalid (budget:" in result.stderr
    cfg = json.loads(run("configs", "show", "cheap", "--json").stdout)
    assert cfg["status"] == "invalid" and cfg["validation_errors"][0].startswith("budget: ")

    result = run("configs", "validate", "cheap", "--plan", "trial", "--json")
    assert {e["rule"] for e in json.loads(result.stdout)["errors"]} == {"budget", "plan"}


def test_a_config_nothing_matches_is_invalid_not_an_error() -> None:
    run("configs", "create", "none", "--gpu", "H100", "--provider", "vultr", "--spot")
    result = run("configs", "validate", "none", "--json")
    assert result.exit_code == 6
    assert json.loads(result.stdout)["errors"][0]["rule"] == "offer"


def test_selection_modes() -> None:
    def pick(name: str, *args: str) -> str:
        assert run("configs", "create", name, *args).exit_code == 0
        return str(json.loads(run("estimate", name, "--json").stdout)["offer_id"])

    def listing(*args: str) -> list[dict]:
        result = run(
            "browse",
            "--min-gpus",
            "8",
            "--max-gpus",
            "8",
            "--on-demand",
            "--available",
            "--limit",
            "500",
            *args,
            "--json",
        )
        return list(json.loads(result.stdout))

    assert pick("pinned", "--mode", "manual", "--offer", OFFER) == OFFER
    cheapest = pick("cheap", "--mode", "auto_cheapest", "--gpu-count", "8")
    fastest = pick("fast", "--mode", "auto_fastest", "--gpu-count", "8")
    best = pick("best", "--mode", "auto_best_value", "--gpu-count", "8")
    assert cheapest == listing("--sort", "price")[0]["id"]
    assert best == listing("--optimize", "value")[0]["id"]
    assert fastest != cheapest
    # the most TFLOPS of any 8-GPU on-demand offer, and the cheapest of those that have them
    from gpubroker.models import RankedOffer
    from gpubroker.ranking.criteria import CRITERIA

    offers = [RankedOffer.model_validate(o) for o in listing()]
    speed = {o.id: CRITERIA["tflops"].value(o) or 0.0 for o in offers}
    top = max(speed.values())
    assert speed[fastest] == top
    assert min((o.price_per_hour_usd, o.id) for o in offers if speed[o.id] == top)[1] == fastest


def test_deploy_from_a_config_uses_its_size_and_budget() -> None:
    run(
        "configs",
        "create",
        "agent",
        "--mode",
        "manual",
        "--offer",
        OFFER,
        "--cpu",
        "0.5",
        "--memory",
        "1GB",
        "--budget",
        "4/h",
        "--image",
        "example/agent:1",
    )
    plan = json.loads(run("deploy", "agent", "--name", "demo", "--dry-run", "--json").stdout)
    assert (plan["cpu_units"], plan["memory_mib"]) == (512, 1024)
    assert plan["budget_per_hour_usd"] == 4.0 and plan["image"] == "example/agent:1"
    assert plan["config_name"] == "agent"
    # flags win over the config; a size they break is refused, not silently changed
    args = ("deploy", "agent", "--name", "d", "--cpu", "1", "--dry-run", "--json")
    plan = json.loads(run(*args, "--memory", "2GB").stdout)
    assert (plan["cpu_units"], plan["memory_mib"]) == (1024, 2048)
    result = run(*args)
    assert result.exit_code == 6 and "1 GB (1024 MiB) does not fit cpu 1024" in result.stderr
    result = run("deploy", "agent", "--gpu", "A100", "--name", "d", "--dry-run")
    assert result.exit_code == 2 and "filters cannot be combined with config" in result.stderr
