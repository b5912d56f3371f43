"""Sanity checks for the bundled offline price catalog (stdlib csv only).

The loader lives elsewhere; these tests only guard the data file itself: its
shape, its provenance columns and the GPU families `gpubroker browse` promises
to answer offline.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

CATALOG = Path(__file__).parent.parent / "src/gpubroker/providers/data/catalog.csv"

HEADER = [
    "provider",
    "instance_type",
    "gpu",
    "gpu_count",
    "gpu_memory_gib",
    "vcpus",
    "ram_gib",
    "disk_gib",
    "price_per_hour_usd",
    "spot",
    "region",
    "country",
    "source_url",
    "as_of",
    "evidence",
]
KNOWN_PROVIDERS = {
    "aws",
    "azure",
    "gcp",
    "hyperstack",
    "lambda",
    "runpod",
    "tensordock",
    "verda",
    "vultr",
}
AS_OF = re.compile(r"^20\d\d-(0[1-9]|1[0-2])$")


def _read() -> tuple[list[str], list[dict[str, str]]]:
    with CATALOG.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [dict(zip(header, values, strict=True)) for values in reader]
    return header, rows


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return _read()[1]


def test_header_is_exact() -> None:
    header, _ = _read()
    assert header == HEADER


def test_enough_rows_and_providers(rows: list[dict[str, str]]) -> None:
    assert len(rows) >= 40
    providers = {r["provider"] for r in rows}
    assert len(providers) >= 4
    assert providers <= KNOWN_PROVIDERS


def test_every_row_is_attributed_and_sane(rows: list[dict[str, str]]) -> None:
    for r in rows:
        where = f"{r['provider']}/{r['instance_type']}/{r['region']}/{r['spot']}"
        assert r["source_url"].startswith("https://"), where
        assert AS_OF.match(r["as_of"]), where
        assert r["evidence"].strip(), where
        assert r["instance_type"].strip(), where
        assert r["gpu"].strip(), where
        assert float(r["price_per_hour_usd"]) > 0, where
        assert int(r["gpu_count"]) >= 1, where
        assert r["spot"] in {"true", "false"}, where
        if r["gpu_memory_gib"]:
            assert float(r["gpu_memory_gib"]) > 0, where
        if r["country"]:
            assert re.fullmatch(r"[A-Z]{2}", r["country"]), where


def test_no_duplicate_keys(rows: list[dict[str, str]]) -> None:
    keys = Counter((r["provider"], r["instance_type"], r["region"], r["spot"]) for r in rows)
    dupes = [k for k, n in keys.items() if n > 1]
    assert not dupes


def test_gpu_families_are_covered(rows: list[dict[str, str]]) -> None:
    gpus = [r["gpu"] for r in rows]

    def has(needle: str) -> bool:
        return any(needle in g for g in gpus)

    for needle in ("H200", "H100", "L40S", "A10G", "A10 ", "4090", "A6000", "V100", "T4"):
        assert has(needle), needle
    assert any("A100" in g and "40" in g for g in gpus), "A100 40GB"
    assert any("A100" in g and "80" in g for g in gpus), "A100 80GB"
    # "L4" is a substring of "L40S", so require the L4 itself.
    assert any(re.search(r"\bL4\b", g) for g in gpus), "L4"


def test_has_spot_rows(rows: list[dict[str, str]]) -> None:
    assert any(r["spot"] == "true" for r in rows)


def test_memory_and_disk_columns_are_gib(rows: list[dict[str, str]]) -> None:
    # AWS publishes instance storage in decimal GB (p5.48xlarge: 8 x 3840 GB); the column is
    # GiB, so those values are converted, and the evidence says from what.
    aws_disks = [r for r in rows if r["provider"] == "aws" and r["disk_gib"] not in ("", "0")]
    assert aws_disks
    for r in aws_disks:
        decimal_gb = float(r["disk_gib"]) * 2**30 / 1e9
        assert abs(decimal_gb - round(decimal_gb)) < 0.01, r["instance_type"]
        assert f"{round(decimal_gb):g} GB (decimal) = {r['disk_gib']} GiB" in r["evidence"]
    p5 = next(r for r in rows if r["instance_type"] == "p5.48xlarge")
    assert float(p5["disk_gib"]) == pytest.approx(30720e9 / 2**30, abs=0.01)
    # Vultr's page gives storage in decimal TB (1.20 TB): converted too, and said so.
    vultr = [r for r in rows if r["provider"] == "vultr" and r["disk_gib"]]
    assert vultr
    for r in vultr:
        assert f"= {r['disk_gib']} GiB" in r["evidence"], r["instance_type"]
    l40s = next(r for r in vultr if r["instance_type"] == "vcg-l40s-16c-180g-48vram")
    assert float(l40s["disk_gib"]) == pytest.approx(1200e9 / 2**30, abs=0.01)


def test_every_provider_that_publishes_list_prices_has_rows(rows: list[dict[str, str]]) -> None:
    """Vultr, Hyperstack and TensorDock publish list prices; Azure's other GPU sizes and
    GCP's prices have dated sources newer than the first catalog (2025-03)."""
    providers = Counter(r["provider"] for r in rows)
    for name in ("vultr", "hyperstack", "tensordock"):
        assert providers[name] >= 2, name
    azure = {r["instance_type"] for r in rows if r["provider"] == "azure"}
    # The size families the decision-quality issue names; NV6/12/18ads_A10_v5 are GPU slices
    # (1/6, 1/3, 1/2 of an A10) that no offer represents, live or offline.
    assert {"Standard_ND96asr_v4", "Standard_NC24ads_A100_v4", "Standard_NC40ads_H100_v5",
            "Standard_ND96isr_H100_v5", "Standard_ND96amsr_A100_v4", "Standard_NC48ads_A100_v4",
            "Standard_NC96ads_A100_v4", "Standard_NC80adis_H100_v5", "Standard_ND96isr_H200_v5",
            "Standard_NV36ads_A10_v5", "Standard_NV72ads_A10_v5", "Standard_NC4as_T4_v3",
            "Standard_NC8as_T4_v3"} <= azure  # fmt: skip
    assert any(r["provider"] == "gcp" and r["as_of"] >= "2026-01" for r in rows)


def test_azure_rows_agree_with_the_live_size_table(rows: list[dict[str, str]]) -> None:
    """An Azure catalog row and the live provider's reading of the same VM size give the same
    GPU model, count, vCPUs and RAM, so an offline row and a live one compare like for like."""
    from gpubroker import gpus
    from gpubroker.providers import azure

    checked = 0
    for r in rows:
        if r["provider"] != "azure":
            continue
        name = r["instance_type"]
        assert not azure.is_fractional(name), name
        sku = azure.sku_spec(name)
        assert sku is not None, name
        assert int(r["gpu_count"]) == sku.gpu_count, name
        assert int(r["vcpus"]) == sku.vcpus, name
        assert float(r["ram_gib"]) == sku.ram_gib, name
        assert float(r["gpu_memory_gib"]) == sku.gpu_memory_gib, name
        ours, theirs = gpus.normalize(r["gpu"]), gpus.normalize(sku.gpu_name_raw)
        assert ours is not None and ours == theirs, name
        checked += 1
    assert checked >= 10


def test_every_catalog_gpu_is_in_the_registry() -> None:
    """A catalog row's GPU resolves to a registry model, so the ranking knows its TFLOPS."""
    from gpubroker import gpus

    _, rows = _read()
    unknown = {r["gpu"] for r in rows if gpus.normalize(r["gpu"]) is None}
    assert not unknown


def test_trusted_catalog_offers_equal_their_validated_selves() -> None:
    """The catalog builds its offers without pydantic's validation (`make_offer(trusted=True)`):
    each must be exactly what validating its fields gives."""
    from gpubroker.models import Offer
    from gpubroker.providers.catalog import load_catalog

    offers = load_catalog()
    assert offers
    for offer in offers:
        again = Offer.model_validate(offer.model_dump())
        assert again == offer
        assert again.model_dump(mode="json") == offer.model_dump(mode="json")
        assert {k: type(v) for k, v in dict(again).items()} == {
            k: type(v) for k, v in dict(offer).items()
        }
