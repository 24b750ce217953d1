"""``ippproxy export-config`` round-trips what was made over the REST API: objects created
on a real server (SQLite and PostgreSQL) are exported by the real command, the export is
the provisioning file of a fresh server, and that server's API lists the same objects,
now provisioned (read-only: 409)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.server import IppProxy, ippproxy_command, tracebacks
from support.webapi import Client, first_password, login, remember_certificate

from testprinters.eve import EvePrinter

LISTS = ("/api/v1/cost-models", "/api/v1/rules", "/api/v1/group-settings")
QUEUE_KEYS = ("name", "destination", "info", "location", "force_print_job", "cost_model",
              "authentication", "force_grayscale", "force_duplex", "default", "dnssd")


def made_over_the_api(admin: Client, eve: EvePrinter) -> None:
    for path, body in (
            ("/api/v1/cost-models", {"name": "rt model", "mono": "0.07", "color": "0.31",
                                     "duplex_discount": "0.25", "job_fee": "0.02",
                                     "media": [{"name": "iso_a3_297x420mm", "mono": "0.14",
                                                "color": "0.62"}]}),
            ("/api/v1/queues", {"name": "rt-queue", "destination": eve.uri,
                                "info": "Round \"trip\"", "location": "Room 7",
                                "cost_model": "rt model", "force_duplex": True,
                                "default": True, "dnssd": False}),
            ("/api/v1/rules", {"name": "rt-copies", "type": "max-copies", "limit": 3,
                               "printers": ["rt-queue"], "unknown": "hold"}),
            ("/api/v1/rules", {"name": "rt-first", "type": "allowed-formats",
                               "values": ["application/pdf"], "position": 1}),
            ("/api/v1/groups", {"name": "rt-group", "multiplier": "0.5",
                                "initial_balance": "4.00", "restricted": False,
                                "credit_limit": "1.00"})):
        r = admin.post(path, json=body)
        assert r.status_code == 201, (path, r.text)
    r = admin.request("PUT", "/api/v1/options/accounting.initial_balance",
                      json={"value": "1.50"})
    assert r.status_code == 200, r.text


def objects(client: Client) -> dict[str, Any]:
    """What the API says exists, but whether it is provisioned, and each option's value
    (the export makes the database's options the new file's values)."""
    out: dict[str, Any] = {}
    for path in LISTS:
        body = client.get(path, params=None if "group" in path else {"limit": 500}).json()
        out[path] = [{k: v for k, v in item.items() if k != "provisioned"}
                     for item in body["items"]]
    queues = client.get("/api/v1/queues", params={"limit": 500}).json()["items"]
    out["queues"] = [{k: q[k] for k in QUEUE_KEYS} for q in queues]
    out["options"] = {o["key"]: o["value"]
                      for o in client.get("/api/v1/options").json()["items"]}
    return out


@pytest.fixture
def fresh() -> Iterator[list[IppProxy]]:
    """The servers started from an exported file (SQLite), stopped at the end."""
    made: list[IppProxy] = []
    yield made
    for p in made:
        p.stop()


def start_from(directory: Path, exported: str) -> IppProxy:
    p = IppProxy(directory)
    base = p.config_path.read_text().split("[[queue]]", 1)[0]
    if "[accounting]\n" in exported:
        exported = exported.replace("[accounting]\n", "[accounting]\nenabled = true\n", 1)
    else:
        exported += "\n[accounting]\nenabled = true\n"
    p.config_path.write_text(base + exported)
    p.start()
    remember_certificate(p)
    return p


def test_objects_made_over_the_api_round_trip_through_export_config(
        admin: Client, proxy: IppProxy, ippeveprinter_session: Any, tmp_path: Path,
        fresh: list[IppProxy]) -> None:
    eve: EvePrinter = ippeveprinter_session(name="RoundTripEve")
    made_over_the_api(admin, eve)
    before = objects(admin)
    out = tmp_path / "exported.toml"
    done = subprocess.run([*ippproxy_command(), "export-config", "--config",
                           str(proxy.config_path), "--output", str(out)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    exported = out.read_text()
    assert 'name = "rt model"' in exported and "rt-first" in exported

    other = start_from(tmp_path / "fresh", exported)
    fresh.append(other)
    copy = login(other.https, "admin", first_password(other))
    after = objects(copy)
    assert after == before
    assert [r["name"] for r in after["/api/v1/rules"]][:2] == ["rt-first", "rt-copies"]
    # Declared by the file now: read-only over the API, with the reason.
    for r in (copy.request("PATCH", "/api/v1/queues/rt-queue", json={"info": "x"}),
              copy.request("PATCH", "/api/v1/cost-models/rt model", json={"mono": "1"}),
              copy.request("DELETE", "/api/v1/rules/rt-copies"),
              copy.request("PATCH", "/api/v1/groups/rt-group/settings",
                           json={"multiplier": "1"})):
        assert r.status_code == 409 and "provisioned" in r.json()["detail"], r.text
    option = copy.get("/api/v1/options/accounting.initial_balance").json()
    assert option["value"] == "1.50"
    assert tracebacks(other.log()) == [] and tracebacks(proxy.log()) == []
