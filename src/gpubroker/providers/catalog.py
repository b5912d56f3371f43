"""The bundled catalog: published list prices, so `browse` answers with no network.

Each row of ``data/catalog.csv`` names the public pricing page it comes from (``source_url``)
and the month it was read (``as_of``); offers built from it carry ``source=catalog`` and an
``observed_at`` of the first day of that month.
"""

from __future__ import annotations

import csv
import functools
import io
from datetime import UTC, datetime
from importlib import resources

from gpubroker.models import Availability, Offer, Source
from gpubroker.providers.base import make_offer

CATALOG_FILE = "catalog.csv"


def _float_or_none(value: str) -> float | None:
    value = value.strip()
    return float(value) if value else None


def parse_catalog(text: str) -> list[Offer]:
    """Parse the catalog CSV text into offers (pure).

    Raises:
        ValueError: a row with a missing or malformed required column.
    """
    offers: list[Offer] = []
    for lineno, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            as_of = datetime.strptime(row["as_of"].strip(), "%Y-%m").replace(tzinfo=UTC)
            spot = row["spot"].strip().lower() == "true"
            region = row["region"].strip() or None
            instance_type = row["instance_type"].strip()
            native = f"{instance_type}:{region or 'any'}:{'spot' if spot else 'ondemand'}"
            offer = make_offer(
                provider=row["provider"].strip(),
                native_id=native,
                instance_type=instance_type,
                gpu_name_raw=row["gpu"].strip(),
                gpu_count=int(row["gpu_count"]),
                gpu_memory_gib=_float_or_none(row["gpu_memory_gib"]),
                vcpus=_float_or_none(row["vcpus"]),
                ram_gib=_float_or_none(row["ram_gib"]),
                disk_gib=_float_or_none(row["disk_gib"]),
                price_per_hour_usd=float(row["price_per_hour_usd"]),
                spot=spot,
                region=region,
                country=row["country"].strip() or None,
                availability=Availability.UNKNOWN,
                observed_at=as_of,
                source=Source.CATALOG,
                source_url=row["source_url"].strip(),
                extras={"as_of": row["as_of"].strip()},
                trusted=True,
            )
        except (KeyError, ValueError, AttributeError) as exc:
            raise ValueError(f"{CATALOG_FILE} line {lineno}: {exc}") from exc
        if offer is not None:
            offers.append(offer)
    return offers


@functools.cache
def load_catalog() -> tuple[Offer, ...]:
    """All offers of the bundled catalog (read once per process)."""
    text = resources.files("gpubroker.providers").joinpath("data", CATALOG_FILE).read_text("utf-8")
    return tuple(parse_catalog(text))


def catalog_providers() -> list[str]:
    """Provider names that have rows in the catalog."""
    return sorted({offer.provider for offer in load_catalog()})
