"""The CLI end to end through CliRunner: formats, exit codes, config, keys."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gpubroker.cli import app
from gpubroker.ranking import PRESETS

runner = CliRunner()

LAMBDA_A10 = {
    "id": "lambda:gpu_1x_a10:any:ondemand",
    "provider": "lambda",
    "instance_type": "gpu_1x_a10",
    "gpu_model": "A10",
    "gpu_name_raw": "A10 24GB",
    "gpu_count": 1,
    "gpu_memory_gib": 24.0,
    "vcpus": 30.0,
    "ram_gib": 226.0,
    "disk_gib": 1331.0,
    "price_per_hour_usd": 1.29,
    "price_per_gpu_hour_usd": 1.29,
    "spot": False,
    "region": None,
    "country": None,
    "availability": "unknown",
    "reliability": None,
    "cuda_version": None,
    "observed_at": "2026-09-01T00:00:00Z",
    "source": "catalog",
    "source_url": "https://lambda.ai/pricing",
    "extras": {"as_of": "2026-09"},
    "rank": 1,
    "score": 0.5,
    "pareto_optimal": True,
    "total_cost_usd": None,
    "contributions": None,
    "stale": False,
}
OFFER_KEYS = list(LAMBDA_A10)


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """CLI tests answer from the bundled catalog; live paths are tested elsewhere."""
    monkeypatch.setenv("GPUBROKER_OFFLINE", "true")


def invoke(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_and_version() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    for command in ("browse", "gpus", "offers", "providers", "keys", "watch", "config"):
        assert command in out
    code, out, _ = invoke("--version")
    assert code == 0 and out.startswith("gpubroker 0.")


def test_browse_json_is_exact() -> None:
    code, out, _ = invoke("browse", "--provider", "lambda", "--gpu", "a10", "--format", "json")
    assert code == 0
    assert json.loads(out) == [LAMBDA_A10]


def test_global_json_flag_and_command_flag_agree() -> None:
    _, a, _ = invoke("--json", "browse", "--provider", "lambda", "--gpu", "a10")
    _, b, _ = invoke("browse", "--provider", "lambda", "--gpu", "a10", "--json")
    assert a == b and json.loads(a) == [LAMBDA_A10]


def test_browse_a100_min_gpus_json_rank_order() -> None:
    code, out, _ = invoke("browse", "--gpu", "a100", "--min-gpus", "2", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert rows, "the catalog has multi-GPU A100 offers"
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(r["gpu_model"] in {"A100-40GB", "A100-80GB", "A100-80GB-PCIE"} for r in rows)
    assert all(r["gpu_count"] >= 2 for r in rows)
    assert all(list(r) == OFFER_KEYS for r in rows)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    # pipes cleanly into json.tool
    tool = subprocess.run(
        [sys.executable, "-m", "json.tool"], input=out, capture_output=True, text=True, check=True
    )
    assert json.loads(tool.stdout) == rows


def test_browse_h100_table_default() -> None:
    code, out, err = invoke("browse", "--gpu", "H100")
    assert code == 0
    lines = out.splitlines()
    # RunPod's Secure and Community H100s read the same but for price: a short id tells
    # them apart (and `offers show` takes it).
    assert lines[0].split()[:5] == ["#", "id", "score", "provider", "gpu"]
    short = lines[2].split()[1]
    assert len(short) == 7
    code, shown, _ = invoke("offers", "show", short, "--json")
    assert code == 0 and json.loads(shown)["gpu_model"].startswith("H100")
    body = lines[2:]
    assert len(body) == 20  # default --limit
    assert all("H100" in line for line in body)
    assert "catalog 20" in out  # source and as-of month shown
    assert "Pareto-optimal" in err


FIELDS = "id,price_per_hour_usd,spot"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (
            "jsonl",
            '{"id": "lambda:gpu_1x_a10:any:ondemand", "price_per_hour_usd": 1.29, "spot": false}\n',
        ),
        ("csv", "id,price_per_hour_usd,spot\nlambda:gpu_1x_a10:any:ondemand,1.29,false\n"),
        ("tsv", "id\tprice_per_hour_usd\tspot\nlambda:gpu_1x_a10:any:ondemand\t1.29\tfalse\n"),
        (
            "markdown",
            "| id                             | $/h   | spot   |\n"
            "|--------------------------------|-------|--------|\n"
            "| lambda:gpu_1x_a10:any:ondemand | 1.290 |        |\n",
        ),
        (
            "table",
            "id                              $/h    spot\n"
            "------------------------------  -----  ------\n"
            "lambda:gpu_1x_a10:any:ondemand  1.290\n",
        ),
        (
            "json",
            '[\n  {\n    "id": "lambda:gpu_1x_a10:any:ondemand",\n'
            '    "price_per_hour_usd": 1.29,\n    "spot": false\n  }\n]\n',
        ),
    ],
)
def test_every_format(fmt: str, expected: str) -> None:
    code, out, _ = invoke(
        "browse", "--provider", "lambda", "--gpu", "a10", "--fields", FIELDS, "--format", fmt
    )
    assert code == 0
    assert out == expected


def test_csv_has_all_fields_by_default() -> None:
    _, out, _ = invoke("browse", "--gpu", "h100", "--format", "csv", "--limit", "3")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 3 and list(rows[0]) == OFFER_KEYS


def test_no_match_is_empty_json_and_exit_3() -> None:
    code, out, err = invoke("browse", "--gpu", "h100", "--max-price", "0.01", "--json")
    assert code == 3
    assert json.loads(out) == []
    assert "no offer matched" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--where", "vram>=80 and prce<3"], "'prce'"),
        (["--where", "price<3GB"], "'3GB'"),
        (["--gpu", "rtx"], "ambiguous"),
        (["--provider", "nosuch"], "valid providers"),
        (["--weights", "price=abc"], "not a number"),
        (["--optimize", "fastest"], "unknown preset"),
        (["--sort", "colour"], "cannot sort"),
        (["--fields", "id,nope"], "unknown field 'nope'"),
        (["--group-by", "planet"], "cannot group"),
        (["--fresh", "--offline"], "contradict"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], needle: str) -> None:
    code, out, err = invoke("browse", *args)
    assert code == 2, err
    assert out == ""
    first = err.splitlines()[0]
    assert first.startswith("Error: ") and needle in first
    assert "Traceback" not in err


def test_typer_usage_error_exits_2() -> None:
    code, _, err = invoke("browse", "--min-gpus", "zero")
    assert code == 2
    assert "--min-gpus" in err


def test_group_by_gpu() -> None:
    code, out, _ = invoke("browse", "--group-by", "gpu", "--json")
    assert code == 0
    rows = json.loads(out)
    names = [r["gpu"] for r in rows]
    assert len(names) == len(set(names)) and "H100-SXM" in names
    h100 = next(r for r in rows if r["gpu"] == "H100-SXM")
    assert h100["min_price_per_gpu_hour_usd"] <= h100["median_price_per_gpu_hour_usd"]
    assert h100["best_offer_id"].count(":") >= 2 and h100["count"] >= 5


def test_explain_hours_and_sort() -> None:
    code, out, _ = invoke(
        "browse", "--gpu", "l4", "--explain", "--hours", "10", "--sort", "price", "--json"
    )
    assert code == 0
    rows = json.loads(out)
    prices = [r["price_per_hour_usd"] for r in rows]
    assert prices == sorted(prices)
    for r in rows:
        assert r["total_cost_usd"] == pytest.approx(r["price_per_hour_usd"] * 10, abs=1e-3)
        assert set(r["contributions"]) <= set(PRESETS["balanced"].weights())
    code, out, _ = invoke("browse", "--gpu", "l4", "--explain", "--hours", "10")
    assert "+$/gpu" in out.splitlines()[0] and "total $" in out.splitlines()[0]


def test_gpus_command() -> None:
    code, out, _ = invoke("gpus", "--arch", "hopper", "--json")
    assert code == 0
    rows = json.loads(out)
    names = {r["name"] for r in rows}
    assert {"H100-SXM", "H100-PCIE", "H100-NVL", "H200"} <= names
    assert all(r["architecture"] == "Hopper" for r in rows)
    sxm = next(r for r in rows if r["name"] == "H100-SXM")
    assert (sxm["bf16_tflops"], sxm["bandwidth_gbps"], sxm["memory_gib"]) == (989, 3350, 80)
    code, out, _ = invoke("gpus", "--min-vram", "100")
    assert code == 0 and "H200" in out and "A100" not in out
    assert invoke("gpus", "--arch", "nosuch")[0] == 3


def test_config_roundtrip(hermetic_env: Path) -> None:
    _, out, _ = invoke("config", "path")
    assert out.strip() == str(hermetic_env / "config.toml")
    assert invoke("config", "set", "limit", "7")[0] == 0
    assert invoke("config", "get", "limit")[1].strip() == "7"
    assert invoke("config", "set", "regions", "aws=us-east-1,eu-west-1;gcp=us-east4")[0] == 0
    _, out, _ = invoke("config", "show", "--json")
    data = json.loads(out)
    assert data["profile"] == "default"
    assert data["settings"]["limit"] == 7
    assert data["settings"]["regions"] == {"aws": ["us-east-1", "eu-west-1"], "gcp": ["us-east4"]}
    _, out, _ = invoke("browse", "--gpu", "h100", "--format", "csv")
    assert len(out.splitlines()) == 8  # header + limit from config
    assert invoke("config", "unset", "limit")[0] == 0
    assert invoke("config", "get", "limit")[1].strip() == "20"
    assert invoke("config", "unset", "limit")[0] == 3


def test_config_bad_input_keeps_file(hermetic_env: Path) -> None:
    assert invoke("config", "set", "limit", "9")[0] == 0
    before = (hermetic_env / "config.toml").read_text()
    code, _, err = invoke("config", "set", "limit", "many")
    assert code == 2 and err.startswith("Error: limit:")
    code, _, err = invoke("config", "set", "colour", "red")
    assert code == 2 and "unknown setting" in err
    assert (hermetic_env / "config.toml").read_text() == before


def test_profiles_and_env_precedence(hermetic_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("--profile", "ci", "config", "set", "limit", "3")[0] == 0
    assert invoke("--profile", "ci", "config", "get", "limit")[1].strip() == "3"
    assert invoke("config", "get", "limit")[1].strip() == "20"
    monkeypatch.setenv("GPUBROKER_LIMIT", "4")
    assert invoke("--profile", "ci", "config", "get", "limit")[1].strip() == "4"
    code, _, err = invoke("--profile", "nosuch", "config", "get", "limit")
    assert code == 2 and "unknown profile" in err


def test_broken_config_file_is_one_line_error(hermetic_env: Path) -> None:
    hermetic_env.mkdir(parents=True, exist_ok=True)
    (hermetic_env / "config.toml").write_text("[default\nlimit = ")
    code, _, err = invoke("browse", "--gpu", "h100")
    assert code == 2
    assert err.startswith("Error: ") and "not valid TOML" in err


def test_keys_set_list_delete(memory_keyring: object) -> None:
    code, _, err = invoke("keys", "set", "lambda", input="sekret-lambda-key\n")
    assert code == 0 and "stored lambda.api_key" in err
    assert memory_keyring.store[("gpubroker", "lambda.api_key")] == "sekret-lambda-key"  # type: ignore[attr-defined]
    code, out, err = invoke("keys", "list", "--json")
    assert "sekret" not in out + err
    rows = {(r["provider"], r["field"]): r for r in json.loads(out)}
    assert rows[("lambda", "api_key")]["source"] == "keyring"
    assert rows[("verda", "client_secret")]["source"] == "missing"
    code, _, _ = invoke("keys", "set", "verda", input="my-id\nmy-secret\n")
    assert code == 0
    assert memory_keyring.store[("gpubroker", "verda.client_secret")] == "my-secret"  # type: ignore[attr-defined]
    assert invoke("keys", "delete", "lambda")[0] == 0
    assert ("gpubroker", "lambda.api_key") not in memory_keyring.store  # type: ignore[attr-defined]
    assert invoke("keys", "delete", "lambda")[0] == 3


def test_keys_bad_input() -> None:
    assert invoke("keys", "set", "nosuch", input="x\n")[0] == 2
    assert invoke("keys", "set", "aws", input="x\n")[0] == 2
    assert invoke("keys", "set", "lambda", "--field", "nope", input="x\n")[0] == 2
    code, _, err = invoke("keys", "set", "lambda", input="\n")
    assert code == 2 and "nothing stored" in err


def test_keys_without_keyring_backend_refuses_plaintext() -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    code, _, err = invoke("keys", "set", "lambda", input="sekret\n")
    assert code == 4
    assert "no OS keyring" in err and "sekret" not in err
    assert "Hint: export LAMBDA_API_KEY=... in this shell or your CI secrets" in err


def test_env_credentials_override_and_are_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAMBDA_API_KEY", "env-secret-value")
    code, out, err = invoke("providers", "--json")
    assert code == 0 and "env-secret-value" not in out + err
    row = next(r for r in json.loads(out) if r["provider"] == "lambda")
    assert row["credentials"] == "api_key=env"


def test_offers_show() -> None:
    code, out, _ = invoke("offers", "show", "lambda:gpu_1x_a10:any:ondemand", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["price_per_hour_usd"] == 1.29 and data["source"] == "catalog"
    code, _, err = invoke("offers", "show", "nope:nope")
    assert code == 3 and "no offer" in err


def test_history_empty_is_exit_3() -> None:
    code, out, err = invoke("offers", "history", "h100", "--json")
    assert code == 3 and json.loads(out) == [] and "offers refresh" in err


def test_debug_shows_traceback_without_locals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUBROKER_DEBUG", "1")
    code, _, err = invoke("browse", "--gpu", "rtx")
    assert code == 2
    assert "Traceback" in err and "Error: GPU 'rtx' is ambiguous" in err


def test_import_is_lean() -> None:
    code = (
        "import sys, gpubroker.cli; "
        "heavy = [m for m in ('boto3', 'botocore', 'keyring', 'sqlite_utils') "
        "if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    # (rich may still arrive through httpx's own optional CLI module; ruff's banned-api
    # keeps gpubroker's library code from importing it.)
    lib = "import sys, gpubroker, gpubroker.broker; print('typer' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", lib], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_python_m_entry_point() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gpubroker", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("gpubroker ")


def test_corrupt_database_is_moved_aside_with_a_clear_warning(
    hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GPUBROKER_OFFLINE")
    hermetic_env.mkdir(parents=True, exist_ok=True)
    db = hermetic_env / "gpubroker.db"
    garbage = b"not a database, but someone's bytes" * 100
    db.write_bytes(garbage)
    code, out, err = invoke("providers", "--json")
    assert code == 0, err
    assert json.loads(out)
    assert "was unreadable" in err and "moved aside" in err
    (aside,) = hermetic_env.glob("gpubroker.db.corrupt-*")
    assert aside.read_bytes() == garbage  # kept, never rewritten
    assert invoke("browse", "--offline", "--limit", "1", "--json")[0] == 0


def test_closed_pipe_is_not_an_error() -> None:
    script = (
        f"set -o pipefail; {sys.executable} -m gpubroker browse --offline --format jsonl"
        " --limit 200 | head -c 10"
    )
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith('{"id": "') and len(out.stdout) == 10
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr


def test_limit_0_means_every_row() -> None:
    _, everything, _ = invoke("browse", "--gpu", "h100", "--limit", "100000", "--format", "json")
    total = len(json.loads(everything))
    assert total > 20  # more than the default limit
    code, out, _ = invoke("browse", "--gpu", "h100", "--limit", "0", "--format", "jsonl")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == json.loads(everything)
    code, _, err = invoke("browse", "--gpu", "h100", "--limit", "0")
    assert code == 0 and f"{total} of {total} offers" in err


def test_limit_setting_0_means_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPUBROKER_LIMIT", "0")
    _, out, _ = invoke("browse", "--gpu", "h100", "--format", "json")
    _, everything, _ = invoke("browse", "--gpu", "h100", "--limit", "0", "--format", "json")
    assert out == everything and len(json.loads(out)) > 20


def test_negative_limit_is_a_usage_error() -> None:
    code, out, err = invoke("browse", "--limit", "-1")
    assert code == 2 and out == ""
    assert "--limit" in err


def test_browse_over_a_cache_prints_what_the_python_api_returns(hermetic_env: Path) -> None:
    """The CLI streams light rows; the Python API builds models. Same offers, same JSON."""
    from datetime import UTC, datetime

    from gpubroker.broker import Broker
    from gpubroker.models import Query
    from gpubroker.providers.base import make_offer

    observed = datetime(2026, 9, 1, 12, 30, 15, 250000, tzinfo=UTC)
    listing = [
        make_offer(provider="vastai", native_id=f"{i}:ondemand", gpu_name_raw=gpu,
                   gpu_count=count, gpu_memory_gib=memory, price_per_hour_usd=price,
                   observed_at=observed, reliability=0.9 + i / 1000, region="Texas, US",
                   country="US", cuda_version="12.8", extras={"offer_id": i, "note": "ünï"})
        for i, (gpu, count, memory, price) in enumerate(
            [("H100 SXM", 2, 80, 4.0), ("H100 SXM", 8, 80, 15.5), ("RTX 4090", 1, 24, 0.4),
             ("H100 PCIe", 4, 80, 7.25), ("A100 80GB", 2, 80, 2.2)]
        )
    ]  # fmt: skip
    with Broker(home=hermetic_env) as broker:
        broker.runtime.store.save_offers("vastai", [o for o in listing if o], observed)
        expected = broker.search(
            Query(gpus=["h100"], min_gpus=2), offline=True, limit=0, hours=10, explain=True
        )
    args = ["browse", "--gpu", "h100", "--min-gpus", "2", "--limit", "0", "--hours", "10",
            "--explain"]  # fmt: skip
    rows = [o.model_dump(mode="json") for o in expected.offers]
    assert [r["source"] for r in rows].count("cache") == 3
    _, out, _ = invoke(*args, "--format", "json")
    assert out == json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    _, out, _ = invoke(*args, "--format", "jsonl")
    assert out == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_row_limits_setting(hermetic_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert invoke("config", "set", "row_limits", "vastai=20000")[0] == 0
    _, out, _ = invoke("config", "show", "--json")
    assert json.loads(out)["settings"]["row_limits"] == {"vastai": 20000}
    before = (hermetic_env / "config.toml").read_text()
    for bad, needle in (("vastai=0", "greater than or equal to 1"), ("vastai=1,2", "NAME=NUMBER"),
                        ("vastai=lots", "valid integer"), ("=5", "NAME=VALUE")):  # fmt: skip
        code, out, err = invoke("config", "set", "row_limits", bad)
        assert code == 2 and out == "", bad
        assert err.startswith("Error: ") and needle in err, err
    assert (hermetic_env / "config.toml").read_text() == before
    monkeypatch.setenv("GPUBROKER_ROW_LIMITS", "VastAI=500")
    _, out, _ = invoke("config", "show", "--json")
    assert json.loads(out)["settings"]["row_limits"] == {"vastai": 500}
    code, _, err = invoke("config", "set", "row_limits", "aws=5")
    assert code == 2 and "'aws' takes no row limit; providers that do: vastai" in err


@pytest.mark.parametrize(
    "args",
    [
        ["browse", "--help"],
        ["--format", "json", "browse", "--help"],
        ["--profile", "ci", "gpus", "--help"],
        ["offers", "--help"],
        ["offers", "show", "--help"],
        ["keys", "--help"],
        ["config", "set", "--help"],
        ["watch", "--help"],
        ["providers", "--help"],
        ["browse", "--limit", "zero"],
        ["offers", "nosuch"],
    ],
)
def test_the_app_built_for_one_command_behaves_like_the_whole_app(args: list[str]) -> None:
    from gpubroker.cli import app_for

    assert app_for(args) is not app
    whole = runner.invoke(app, args, catch_exceptions=False)
    slim = runner.invoke(app_for(args), args, catch_exceptions=False)
    assert (slim.exit_code, slim.stdout, slim.stderr) == (
        whole.exit_code,
        whole.stdout,
        whole.stderr,
    )


@pytest.mark.parametrize("args", [[], ["--version"], ["nosuch"], ["--json"], ["--", "browse"]])
def test_without_a_known_command_the_whole_app_answers(args: list[str]) -> None:
    from gpubroker.cli import app_for

    assert app_for(args) is app
