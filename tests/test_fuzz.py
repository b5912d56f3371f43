"""Fuzzing: provider parsers, the where language and the GPU name resolver on arbitrary
input raise only the documented errors, never an internal one."""

from __future__ import annotations

import contextlib
import copy
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpubroker import gpus
from gpubroker.errors import GpubrokerError, ProviderError, UsageError
from gpubroker.http import make_client
from gpubroker.models import Offer
from gpubroker.providers import (
    aws,
    azure,
    gcp,
    hyperstack,
    lambdalabs,
    runpod,
    tensordock,
    vastai,
    verda,
    vultr,
)
from gpubroker.providers.base import Skips, decode_json
from gpubroker.ranking import parse_where
from gpubroker.remote import translate_errors
from tests.conftest import load_fixture

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)

NASTY_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["", "NaN", "Infinity", "-1", "1e400", "\x1b[2J", "\u202e", "[b]x[/b]",
                     "0E-9", "1/8", "null", "H100", "8x A100 (80 GB SXM4)"])  # fmt: skip
NUMBERS = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, -1, 1e308, 1e-308, 2**63])
)
LEAVES = st.none() | st.booleans() | NUMBERS | NASTY_TEXT
JSON = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(NASTY_TEXT, children, max_size=4)
    ),
    max_leaves=20,
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Parser = Callable[[Any], list[Offer]]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a leaf or container inside a JSON value."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _paths(child, (*prefix, i))
    return found


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    target = value
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return value


@st.composite
def mutated(draw: st.DrawFn, original: Any) -> Any:
    """A real answer with a few of its values (or whole subtrees) replaced by junk."""
    value = copy.deepcopy(original)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        value = _set(value, path, draw(JSON))
    return value


PARSERS: dict[str, tuple[Callable[[Any], Any], Any]] = {
    "vastai": (lambda p: vastai.parse_offers(p, observed_at=NOW, skips=Skips()),
               load_fixture("vastai", "bundles_ondemand.json")),
    "runpod": (lambda p: runpod.parse_offers(p, cloud="secure", observed_at=NOW, skips=Skips()),
               load_fixture("runpod", "gpu_types_secure.json")),
    "lambda": (lambda p: lambdalabs.parse_offers(p, observed_at=NOW, skips=Skips()),
               load_fixture("lambda", "instance_types.json")),
    "tensordock": (lambda p: tensordock.parse_offers(p, observed_at=NOW, skips=Skips()),
                   load_fixture("tensordock", "locations.json")),
    "vultr": (lambda p: vultr.parse_offers(p, observed_at=NOW, skips=Skips()),
              {"plans": load_fixture("vultr", "plans_page1.json")["plans"],
               "plans_metal": load_fixture("vultr", "plans_metal.json")["plans_metal"]}),
    "verda": (lambda p: verda.parse_offers(p, observed_at=NOW, skips=Skips()),
              load_fixture("verda", "instance_types.json")),
    "hyperstack": (lambda p: hyperstack.parse_offers(p, load_fixture("hyperstack",
                                                                     "pricebook.json"),
                                                     observed_at=NOW, skips=Skips()),
                   load_fixture("hyperstack", "flavors.json")),
    "hyperstack-pricebook": (lambda p: hyperstack.parse_offers(
        load_fixture("hyperstack", "flavors.json"), p, observed_at=NOW, skips=Skips()),
        load_fixture("hyperstack", "pricebook.json")),
    "azure": (lambda p: azure.parse_offers(p if isinstance(p, list) else [p], observed_at=NOW,
                                           skips=Skips()),
              load_fixture("azure", "azure.json")["Items"]),
    "gcp": (lambda p: gcp.parse_offers(p if isinstance(p, list) else [p], observed_at=NOW,
                                       skips=Skips()),
            load_fixture("gcp", "skus_page1.json")["skus"]),
    "aws-types": (lambda p: aws.parse_instance_types(p if isinstance(p, list) else [p]),
                  load_fixture("aws", "describe_instance_types.json")),
    "aws-prices": (lambda p: aws.parse_prices(p if isinstance(p, list) else [p]),
                   load_fixture("aws", "get_products.json")[0]["PriceList"]),
}  # fmt: skip


def _documented(name: str, parse: Callable[[Any], Any], payload: Any) -> None:
    """Run a parser as a fetch does; anything but a gpubroker error is a bug."""
    try:
        with translate_errors(name, provider=True):
            result = parse(payload)
    except GpubrokerError:
        return
    for offer in result if isinstance(result, list) else []:
        assert isinstance(offer, Offer)
        assert math.isfinite(offer.price_per_hour_usd) and offer.price_per_hour_usd > 0
        for number in (offer.gpu_memory_gib, offer.vcpus, offer.ram_gib, offer.disk_gib):
            assert number is None or (math.isfinite(number) and number >= 0)
        text = json.dumps(offer.model_dump(mode="json"))
        assert "\\u001b" not in text and "\\u202e" not in text


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_parsers_on_mutated_real_answers(name: str, data: st.DataObject) -> None:
    parse, original = PARSERS[name]
    _documented(name, parse, data.draw(mutated(original)))


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(payload=JSON)
def test_parsers_on_arbitrary_json(name: str, payload: Any) -> None:
    parse, _ = PARSERS[name]
    _documented(name, parse, payload)


@FUZZ
@given(text=st.text(max_size=200))
def test_decode_json_on_arbitrary_text(text: str) -> None:
    try:
        value = decode_json(text)
    except ValueError:
        return
    assert "NaN" not in json.dumps(value) and "Infinity" not in json.dumps(value)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=120)
    | st.from_regex(
        r"[a-z_]{1,8} ?(<=|>=|=|!=|<|>|in) ?[\w.\[\],]{0,12}( (and|or) )?", fullmatch=True
    )
)
def test_where_parser_raises_only_usage_errors(text: str) -> None:
    try:
        predicate = parse_where(text)
    except UsageError:
        return
    assert callable(predicate)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80))
def test_gpu_name_resolution_raises_only_usage_errors(text: str) -> None:
    gpus.normalize(text)  # never raises
    gpus.normalize(text, 24.0)
    with contextlib.suppress(UsageError):
        gpus.resolve_query(text)


FETCHED = {
    "vastai": ("POST", "https://console.vast.ai/api/v0/bundles/", vastai.VastaiProvider, {}),
    "lambda": ("GET", "https://cloud.lambda.ai/api/v1/instance-types",
               lambdalabs.LambdaProvider, {"api_key": "k-1234"}),
    "runpod": ("POST", "https://api.runpod.io/graphql", runpod.RunpodProvider, {}),
    "tensordock": ("GET", "https://dashboard.tensordock.com/api/v2/locations",
                   tensordock.TensordockProvider, {}),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FETCHED))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=JSON, status=st.sampled_from([200, 200, 200, 404, 500, 503]))
def test_fetch_of_arbitrary_answers_fails_only_as_a_provider_error(
    name: str, payload: Any, status: int
) -> None:
    method, url, cls, creds = FETCHED[name]
    body = json.dumps(payload, allow_nan=True).encode()
    with respx.mock(assert_all_mocked=True) as router, make_client(sleep=lambda _: None) as c:
        router.route(method=method, url=url).mock(
            return_value=httpx.Response(status, content=body,
                                        headers={"content-type": "application/json"})
        )  # fmt: skip
        try:
            result = cls(creds).fetch(c)
        except ProviderError:
            return
        except GpubrokerError as exc:  # credentials errors are documented too
            assert exc.exit_code in (4, 5)
            return
    assert all(isinstance(o, Offer) for o in result.offers)
