"""The hosted API's token and API key: env var, keyring, or an explicit 0600 file; never a
silent plaintext fallback. And the local subscriptions table that keeps the rest."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gpubroker.credentials import ApiSecrets
from gpubroker.errors import CredentialsError, KeyringUnavailableError
from gpubroker.store import Store
from tests.conftest import MemoryKeyring

TOKEN = "eyJhbGciOi.eyJlbWFpbCI6ImEifQ.c2lnbmF0dXJl"


@pytest.fixture
def no_keyring() -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())


def test_keyring_per_profile_and_env_override(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = ApiSecrets("ci", tmp_path)
    assert secrets.get("token") == (None, "missing")
    assert secrets.store("token", f"  {TOKEN}\n") == "keyring"
    assert memory_keyring.store[("gpubroker", "api.ci.token")] == TOKEN
    assert secrets.get("token") == (TOKEN, "keyring")
    assert ApiSecrets("default", tmp_path).get("token") == (None, "missing")
    monkeypatch.setenv("GPUBROKER_TOKEN", "from-env")
    assert secrets.get("token") == ("from-env", "env")
    monkeypatch.setenv("GPUBROKER_API_KEY", "gpuk_env")
    assert secrets.get("api_key") == ("gpuk_env", "env")
    assert secrets.delete("token") == ["keyring"]
    assert secrets.delete("token") == []


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_storing_fails_naming_the_env_var_and_the_explicit_option(
    tmp_path: Path,
) -> None:
    secrets = ApiSecrets("default", tmp_path)
    with pytest.raises(KeyringUnavailableError) as caught:
        secrets.require_storage("token")
    assert caught.value.exit_code == 4
    assert "GPUBROKER_TOKEN" in (caught.value.hint or "")
    assert "--insecure-storage" in (caught.value.hint or "")
    with pytest.raises(KeyringUnavailableError) as key_error:
        secrets.store("api_key", "gpuk_x")
    assert "GPUBROKER_API_KEY" in (key_error.value.hint or "")
    assert not any(tmp_path.rglob("*")), "nothing may be written without --insecure-storage"


@pytest.mark.usefixtures("no_keyring")
def test_insecure_storage_is_a_0600_file_in_a_0700_directory(tmp_path: Path) -> None:
    secrets = ApiSecrets("default", tmp_path)
    assert secrets.store("token", TOKEN, insecure=True) == "file"
    path = secrets.file_path("token")
    assert path.read_text().strip() == TOKEN
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert secrets.get("token") == (TOKEN, "file")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    assert secrets.delete("token") == ["file"]
    assert not path.exists()


def test_a_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secrets = ApiSecrets("default", tmp_path)
    secrets.store("token", TOKEN, insecure=True)
    os.chmod(secrets.file_path("token"), 0o644)
    with pytest.raises(CredentialsError) as caught:
        secrets.get("token")
    assert "chmod 600" in (caught.value.hint or "") and TOKEN not in caught.value.message


def test_the_keyring_and_the_file_never_shadow_each_other(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    secrets = ApiSecrets("default", tmp_path)
    secrets.store("token", "old-token")
    secrets.store("token", "new-token", insecure=True)
    assert secrets.get("token") == ("new-token", "file")
    assert ("gpubroker", "api.default.token") not in memory_keyring.store
    secrets.store("token", "newest-token")
    assert secrets.get("token") == ("newest-token", "keyring")
    assert not secrets.file_path("token").exists()


def test_profile_names_cannot_escape_the_secrets_directory(tmp_path: Path) -> None:
    path = ApiSecrets("../../etc/passwd", tmp_path).file_path("token")
    assert path.parent == tmp_path / "insecure-secrets"
    assert ".." not in path.name and "/" not in path.name


# --- the local subscriptions table ------------------------------------------------------------


def test_save_subscription_merges_renames_and_keeps_values(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite") as store:
        store.save_subscription(
            {"subscription_id": "local-1", "profile": "p", "email": "a@b.co", "plan": "pro",
             "status": "pending_payment", "api_key": "gpuk_must_not_be_stored"}
        )  # fmt: skip
        store.save_subscription({"subscription_id": "local-1", "order_id": "O-1", "plan": None})
        row = store.subscription("local-1")
        assert row is not None and (row["plan"], row["order_id"]) == ("pro", "O-1")
        assert "api_key" not in row
        created = row["created_at"]
        store.save_subscription(
            {"subscription_id": "sub_1", "status": "pending_activation"}, previous_id="local-1"
        )
        assert store.subscription("local-1") is None
        moved = store.subscription("sub_1")
        assert moved is not None and moved["order_id"] == "O-1" and moved["created_at"] == created
        assert moved["status"] == "pending_activation"
        assert [r["subscription_id"] for r in store.subscriptions("p", order_id="O-1")] == ["sub_1"]
        assert store.subscriptions("p", status="running") == []
        assert store.current_subscription("p") == moved
        with pytest.raises(ValueError):
            store.subscriptions("p", api_key="x")
    assert b"gpuk_must_not_be_stored" not in (tmp_path / "db.sqlite").read_bytes()
