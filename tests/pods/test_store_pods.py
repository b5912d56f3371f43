"""The POD journal in SQLite: m007, live-name uniqueness, events on every state change."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gpubroker.errors import RefusedError
from gpubroker.store import Store


def row(pod_id: str, name: str = "demo", status: str = "creating") -> dict[str, object]:
    return {
        "pod_id": pod_id,
        "name": name,
        "status": status,
        "region": "us-east-1",
        "cluster": "gpubroker-pods",
        "service_name": f"gpubroker-{pod_id}",
    }


def test_m007_creates_the_pod_tables(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite") as store:
        assert "m007_pods" in store.applied_migrations()
        tables = set(store.db.table_names())
        assert {"pod_configs", "pods", "pod_events", "audit"} <= tables


def test_a_live_name_is_unique_and_failure_frees_it(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite") as store:
        store.insert_pod(row("pod-00000001"), kind="intent", message="")
        with pytest.raises(RefusedError, match="in use by POD pod-00000001"):
            store.insert_pod(row("pod-00000002"), kind="intent", message="")
        store.update_pod("pod-00000001", {"status": "failed"}, kind="failed", message="x")
        store.insert_pod(row("pod-00000002"), kind="intent", message="")
        assert [r["pod_id"] for r in store.pods_named("demo")] == ["pod-00000002", "pod-00000001"]


def test_only_one_of_two_racing_deploys_gets_the_name(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    Store(path).close()
    results: list[str] = []
    barrier = threading.Barrier(2)

    def deploy(pod_id: str) -> None:
        with Store(path) as store:
            barrier.wait()
            try:
                store.insert_pod(row(pod_id), kind="intent", message="")
                results.append("ok")
            except RefusedError:
                results.append("refused")

    threads = [threading.Thread(target=deploy, args=(f"pod-0000000{i}",)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]


def test_every_state_change_is_an_event(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite") as store:
        store.insert_pod(row("pod-00000001"), kind="intent", message="requested")
        store.update_pod("pod-00000001", {"public_ip": "1.2.3.4"})  # no state change: no event
        store.update_pod("pod-00000001", {"status": "starting"}, kind="service", message="made")
        store.update_pod("pod-00000001", {"status": "starting"}, kind="observed", message="0/1")
        store.add_pod_event("pod-00000001", "note", "hello")
        events = store.pod_events("pod-00000001")
    assert [(e["kind"], e["old_status"], e["new_status"]) for e in events] == [
        ("intent", None, "creating"),
        ("service", "creating", "starting"),
        ("note", "starting", "starting"),
    ]
