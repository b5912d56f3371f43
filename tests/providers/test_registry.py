"""The provider registry stays honest: every module registered, tested and with fixtures."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import gpubroker.providers as pkg
from gpubroker.errors import UnknownProviderError
from gpubroker.providers import PROVIDERS, get_provider
from gpubroker.providers.base import Provider

TESTS = Path(__file__).parent
NOT_PROVIDERS = {"base", "catalog"}


def discovered() -> dict[str, type[Provider]]:
    found: dict[str, type[Provider]] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name in NOT_PROVIDERS:
            continue
        module = importlib.import_module(f"gpubroker.providers.{info.name}")
        classes = [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj)
            and issubclass(obj, Provider)
            and obj is not Provider
            and obj.__module__ == module.__name__
        ]
        assert len(classes) == 1, f"{info.name} must define exactly one Provider subclass"
        found[classes[0].name] = classes[0]
    return found


def test_discovered_equals_registered() -> None:
    assert discovered() == PROVIDERS


def test_names_unique_and_labelled() -> None:
    names = [cls.name for cls in PROVIDERS.values()]
    assert len(names) == len(set(names))
    for key, cls in PROVIDERS.items():
        assert key == cls.name
        assert cls.label
        assert cls.name.isidentifier() or cls.name == "lambda"


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_each_provider_has_fixtures_and_tests(name: str) -> None:
    fixtures = TESTS.parent / "fixtures" / name
    assert fixtures.is_dir() and any(fixtures.iterdir()), f"missing tests/fixtures/{name}/"
    assert (TESTS / f"test_{name}.py").is_file(), f"missing tests/providers/test_{name}.py"


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_constructor_is_pure(name: str) -> None:
    """Constructing a provider does no I/O (the autouse respx router would catch HTTP)."""
    cls = PROVIDERS[name]
    provider = cls({spec.field: "x" for spec in cls.credentials})
    assert provider.name == name


def test_http_providers_honour_url_override(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, cls in PROVIDERS.items():
        if cls.default_base_url is None:
            continue
        monkeypatch.setenv(f"GPUBROKER_{name.upper()}_URL", "http://127.0.0.1:9/mirror/")
        assert cls().base_url == "http://127.0.0.1:9/mirror"


def test_get_provider() -> None:
    assert get_provider("VastAI") is PROVIDERS["vastai"]
    with pytest.raises(UnknownProviderError) as info:
        get_provider("nosuch")
    assert info.value.exit_code == 2
    assert "vastai" in str(info.value)


def test_registry_table_names_every_provider_without_importing_it() -> None:
    from gpubroker.providers import REGISTRY, provider_names

    assert list(REGISTRY) == list(PROVIDERS)
    assert provider_names() == list(PROVIDERS)
    for name, (module, cls_name) in REGISTRY.items():
        assert PROVIDERS[name].__module__ == f"gpubroker.providers.{module}"
        assert PROVIDERS[name].__name__ == cls_name


def test_catalog_and_base_load_no_provider_module_and_no_http_client() -> None:
    code = (
        "import sys, json\n"
        "from gpubroker.providers import provider_names\n"
        "from gpubroker.providers.catalog import load_catalog\n"
        "assert load_catalog() and provider_names()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('httpx', "
        "'gpubroker.providers.')))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["gpubroker.providers.base", "gpubroker.providers.catalog"]


def test_make_offer_shares_one_fields_set_and_copies_leave_it_alone() -> None:
    from datetime import UTC, datetime

    from gpubroker.models import Offer, Source
    from gpubroker.providers.base import make_offer

    def one(native_id: str) -> Offer:
        moment = datetime(2026, 9, 1, tzinfo=UTC)
        o = make_offer(provider="p", native_id=native_id, gpu_name_raw="H100 SXM", gpu_count=1,
                       price_per_hour_usd=2.0, observed_at=moment)  # fmt: skip
        assert o is not None
        return o

    a, b = one("a"), one("b")
    assert a.model_fields_set == set(Offer.model_fields)
    assert a.model_fields_set is b.model_fields_set  # one set, not 2 KB per offer
    copy = a.model_copy(update={"source": Source.CACHE})
    assert copy.model_fields_set is not a.model_fields_set
    assert a.model_fields_set == set(Offer.model_fields)
    assert Offer.model_validate(a.model_dump()) == a
