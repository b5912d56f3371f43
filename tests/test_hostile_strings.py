"""Provider strings and server error bodies are untrusted: nothing reaches the terminal raw."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from gpubroker import render
from gpubroker.cli import app
from gpubroker.models import Availability, RankedOffer
from gpubroker.providers.base import make_offer
from gpubroker.settings import OutputFormat
from gpubroker.textfmt import sanitize
from tests.conftest import load_fixture

LAMBDA = "https://cloud.lambda.ai/api/v1/instance-types"
CLEAR = "\x1b[2J"
TITLE = "\x1b]0;pwned\x07"
RLO = "\u202e"
MARKUP = "[link=https://evil.example/]click[/link]"
HOSTILE = f"Virginia{CLEAR}{TITLE}{RLO}, USA {MARKUP}"


def hostile_listing() -> dict[str, object]:
    payload = load_fixture("lambda", "instance_types.json")
    entry = payload["data"]["gpu_1x_a10"]
    entry["regions_with_capacity_available"] = [
        {"name": f"us-east-1{CLEAR}", "description": HOSTILE}
    ]
    entry["instance_type"]["gpu_description"] = f"A10{TITLE} (24 GB PCIe)"
    return payload


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "tsv", "table", "markdown"])
def test_no_escape_sequence_or_bidi_override_reaches_any_format(
    fmt: str, http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, hermetic_env: Path
) -> None:
    monkeypatch.setenv("LAMBDA_API_KEY", "k-123456")
    http_mock.get(LAMBDA).mock(return_value=httpx.Response(200, json=hostile_listing()))
    result = CliRunner().invoke(
        app, ["browse", "--provider", "lambda", "--fresh", "--format", fmt, "--gpu", "a10"],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    for text in (result.stdout, result.stderr):
        assert "\x1b" not in text and RLO not in text and "\x07" not in text
    # and nothing raw was stored either
    database = (hermetic_env / "gpubroker.db").read_bytes()
    wal = hermetic_env / "gpubroker.db-wal"
    if wal.exists():
        database += wal.read_bytes()
    assert CLEAR.encode() not in database and b"pwned\x07" not in database
    assert RLO.encode() not in database


def test_markup_in_data_is_shown_as_text_on_a_terminal() -> None:
    offer = make_offer(
        provider="vastai", native_id="1:ondemand", gpu_name_raw="RTX 4090", gpu_count=1,
        price_per_hour_usd=0.3, observed_at=__import__("datetime").datetime(2026, 9, 1),
        region=HOSTILE, availability=Availability.AVAILABLE,
    )  # fmt: skip
    assert offer is not None
    ranked = RankedOffer(**offer.model_dump(), rank=1, score=0.5)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    render.render_offers([ranked], OutputFormat.TABLE, fields=["rank", "region"], out=out)
    text = out.getvalue()
    assert "[link=https://evil.example/]click[/link]" in text  # literal, not a hyperlink
    assert "\x1b]8;" not in text and "\x1b[2J" not in text


def test_a_500_body_with_escape_sequences_is_cleaned_in_the_warning(
    http_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDA_API_KEY", "k-123456")
    body = {"error": {"message": f"boom{CLEAR}{TITLE}{RLO} [bold red]FAKE[/]"}}
    http_mock.get(LAMBDA).mock(return_value=httpx.Response(500, json=body))
    result = CliRunner().invoke(
        app, ["browse", "--provider", "lambda", "--fresh", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0  # the catalog stands in
    assert "warning: lambda" in result.stderr
    assert "\x1b" not in result.stderr and RLO not in result.stderr
    assert "[bold red]FAKE[/]" in result.stderr  # printed as text, not as markup
    assert json.loads(result.stdout)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("A100\x1b[31m red\x1b[0m", "A100 red"),
        ("\x1b]8;;https://e.example\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("RTX\u202e0904\u2066", "RTX0904"),
        ("zero\u200bwidth", "zerowidth"),
        ("tab\tand\nnewline\r", "tab and newline"),
        ("café Ⅻ", "café Ⅻ"),
    ],
)
def test_sanitize(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean
