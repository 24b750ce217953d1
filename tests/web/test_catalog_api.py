"""The catalog's REST resources on the real server over HTTPS (SQLite and PostgreSQL):
queues (created from an ippeveprinter's URI, live state and markers, pause/resume,
accept/reject, purge, delete), cost models, rules and their order, groups' settings and
quotas, options, the dashboard summary; a provisioned queue and a duplicate name answer
409, a bad field 422 naming it; and each change is in the audit log with who, before and
after (read back through ``/api/v1/audit`` with its filters and keyset paging)."""

from __future__ import annotations

import io
import time
from typing import Any

import pikepdf
import requests
from e2e.ipp_client import print_job
from support.server import IppProxy, tracebacks
from support.webapi import Client

from testprinters.eve import EvePrinter

Q = "/api/v1/queues"


def one_page_pdf() -> bytes:
    doc = pikepdf.new()
    doc.add_blank_page(page_size=(595, 842))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def is_problem(r: requests.Response, status: int) -> bool:
    body = r.json()
    return (r.status_code == status and r.headers["Content-Type"].startswith(
        "application/problem+json") and body["status"] == status
        and {"type", "title", "detail"} <= set(body))


def audit(client: Client, **filters: Any) -> list[dict[str, Any]]:
    r = client.get("/api/v1/audit", params=filters)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (got := check()):
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.2)
    return got


def test_a_queue_from_a_printer_uri_shows_its_state_and_changes_are_audited(
        admin: Client, proxy: IppProxy, ippeveprinter_session: Any) -> None:
    eve: EvePrinter = ippeveprinter_session(name="CatalogEve")
    r = admin.post(Q, json={"name": "eve", "destination": eve.uri, "info": "Eve",
                            "location": "lab bench"})
    assert r.status_code == 201, r.text
    assert r.json()["provisioned"] is False and r.json()["destination"] == eve.uri
    dup = admin.post(Q, json={"name": "eve", "destination": eve.uri})
    assert is_problem(dup, 409) and "'eve'" in dup.json()["detail"]
    # This node serves the new queue within the watcher's interval; the destination's
    # state comes from the printer itself.
    live = until(lambda: (admin.get(f"{Q}/eve").json()["live"] or {}).get("reachable"))
    assert live is True
    got = admin.get(f"{Q}/eve").json()
    assert got["live"]["state"] in ("idle", "processing") and got["accepting"] is True
    office = admin.get(f"{Q}/office").json()  # the built-in virtual printer has toner
    assert office["provisioned"] is True and office["live"]["markers"]
    assert all(-3 <= m["level"] <= 100 for m in office["live"]["markers"])
    listed = admin.get(Q, params={"provisioned": "false"}).json()
    assert [q["name"] for q in listed["items"]] == ["eve"] and listed["total"] == 1
    names = [q["name"] for q in admin.get(Q, params={"order": "desc"}).json()["items"]]
    assert names == sorted(names, reverse=True) and {"office", "lab", "eve"} <= set(names)

    changed = admin.request("PATCH", f"{Q}/eve", json={"location": "room 2"})
    assert changed.status_code == 200 and changed.json()["location"] == "room 2"
    paused = admin.post(f"{Q}/eve/pause").json()
    assert paused["paused"] is True
    assert admin.get(Q, params={"paused": "true"}).json()["items"][0]["name"] == "eve"
    print_job(proxy.port, proxy.uri("eve"), one_page_pdf(), path=proxy.path("eve"))
    assert admin.post(f"{Q}/eve/purge").json() == {"canceled": 1}
    assert admin.post(f"{Q}/eve/resume").json()["paused"] is False
    rejected = admin.post(f"{Q}/eve/reject", json={"message": "toner ordered"})
    assert rejected.json()["accepting"] is False
    assert admin.post(f"{Q}/eve/accept").json()["accepting"] is True

    entries = audit(admin, kind="queue", name="eve")
    assert [e["action"] for e in entries] == ["accept", "reject", "resume", "purge", "pause",
                                              "update", "create"]
    assert {e["actor"] for e in entries} == {"admin"}
    update = entries[5]
    assert (update["before"]["location"], update["after"]["location"]) == ("lab bench",
                                                                           "room 2")
    assert entries[4]["before"] == {"paused": False, "accepting": True}
    assert entries[3]["after"] == {"canceled": 1}
    assert admin.request("DELETE", f"{Q}/eve").json() == {"canceled": 0}
    assert is_problem(admin.get(f"{Q}/eve"), 404)
    assert audit(admin, kind="queue", name="eve", action="delete")[0]["before"]["info"] == "Eve"
    assert tracebacks(proxy.log()) == []


def test_a_provisioned_queue_refuses_changes_with_the_reason(admin: Client) -> None:
    for r in (admin.request("PATCH", f"{Q}/office", json={"info": "x"}),
              admin.request("DELETE", f"{Q}/office")):
        assert is_problem(r, 409) and "provisioned" in r.json()["detail"]
    assert admin.get(f"{Q}/office").json()["info"] != "x"
    # Its operating state is not the file's: pausing works, as over IPP.
    assert admin.post(f"{Q}/lab/pause").json()["paused"] is True
    assert admin.post(f"{Q}/lab/resume").json()["paused"] is False


def test_bad_fields_are_named(admin: Client) -> None:
    r = admin.post(Q, json={"name": "bad name!", "destination": "ipp://127.0.0.1:1/x"})
    assert is_problem(r, 422) and [e["field"] for e in r.json()["errors"]] == ["body.name"]
    r = admin.post(Q, json={"name": "ok", "destination": "ftp://printer/x"})
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "destination"
    r = admin.post(Q, json={"name": "ok", "destination": "builtin", "cost_model": "nope"})
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "cost_model"
    r = admin.post("/api/v1/cost-models", json={"name": "m", "mono": "ten"})
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "body.mono"
    r = admin.post("/api/v1/cost-models", json={"name": "m", "duplex_discount": "2"})
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "duplex_discount"
    r = admin.post("/api/v1/rules", json={"name": "r", "type": "max-pages"})
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "limit"
    r = admin.request("PUT", "/api/v1/options/accounting.unknown_users", json={"value": "x"})
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "value"
    assert is_problem(admin.get(f"{Q}/nowhere"), 404)
    # A name no group can have names no group (not a 500).
    for path in ("/api/v1/groups/%0C%C2%95/settings", "/api/v1/groups/%0C/quota"):
        assert is_problem(admin.get(path), 404)
    assert is_problem(admin.request("DELETE", "/api/v1/groups/%20"), 404)
    assert audit(admin, name="ok") == [] and audit(admin, name="m") == []


def test_cost_models_rules_groups_and_options(admin: Client, proxy: IppProxy) -> None:
    cm = "/api/v1/cost-models"
    r = admin.post(cm, json={"name": "A4 colour", "mono": "0.05", "color": "0.20",
                             "media": [{"name": "iso_a3_297x420mm", "mono": "0.10",
                                        "color": "0.40"}]})
    assert r.status_code == 201, r.text
    assert r.json()["media"] == [{"name": "iso_a3_297x420mm", "mono": "0.10", "color": "0.40"}]
    assert is_problem(admin.post(cm, json={"name": "A4 colour"}), 409)
    changed = admin.request("PATCH", f"{cm}/A4 colour", json={"job_fee": "0.01"}).json()
    assert (changed["job_fee"], changed["mono"]) == ("0.01", "0.05")
    assert [m["name"] for m in admin.get(cm).json()["items"]] == ["A4 colour"]
    queue = admin.post(Q, json={"name": "priced", "destination": "builtin",
                                "cost_model": "A4 colour"})
    assert queue.status_code == 201
    in_use = admin.request("DELETE", f"{cm}/A4 colour")
    assert is_problem(in_use, 409) and "priced" in in_use.json()["detail"]

    rules = "/api/v1/rules"
    for body in ({"name": "small", "type": "max-pages", "limit": 50},
                 {"name": "grey", "type": "force-grayscale", "printers": ["priced"]},
                 {"name": "first", "type": "max-copies", "limit": 10, "position": 1}):
        assert admin.post(rules, json=body).status_code == 201
    order = [r["name"] for r in admin.get(rules).json()["items"]]
    assert order == ["first", "small", "grey"]
    moved = admin.post(f"{rules}/grey/move", json={"position": 1}).json()
    assert moved["order"] == ["grey", "first", "small"]
    assert admin.get(f"{rules}/small").json()["position"] == 3
    assert is_problem(admin.post(rules, json={"name": "grey", "type": "force-duplex"}), 409)
    bad = admin.post(rules, json={"name": "x", "type": "force-duplex", "printers": ["nope"]})
    assert is_problem(bad, 422) and bad.json()["errors"][0]["field"] == "printers"
    assert admin.request("PATCH", f"{rules}/small", json={"limit": 20}).json()["limit"] == 20
    in_rule = admin.request("DELETE", f"{Q}/priced")
    assert is_problem(in_rule, 409) and "grey" in in_rule.json()["detail"]
    assert admin.request("DELETE", f"{rules}/grey").status_code == 204

    groups = "/api/v1/groups"
    made = admin.post(groups, json={"name": "Lab-Staff", "multiplier": "0.5",
                                    "initial_balance": "2.00"})
    assert made.status_code == 201, made.text
    name = made.json()["name"]
    assert is_problem(admin.post(groups, json={"name": "lab-staff"}), 409)
    settings = admin.request("PATCH", f"{groups}/{name}/settings",
                             json={"restricted": False}).json()
    assert (settings["restricted"], settings["multiplier"]) == (False, "0.5")
    provisioned = admin.request("PATCH", f"{groups}/finance-team/settings",
                                json={"multiplier": "2"})
    assert is_problem(provisioned, 409)
    quota = admin.request("PUT", f"{groups}/finance-team/quota",
                          json={"period": "monthly", "amount": "5.00", "cap": "20.00"})
    assert quota.status_code == 200 and quota.json()["period"] == "monthly"
    assert admin.get(f"{groups}/finance-team/quota").json()["cap"] == "20.00"
    listed = {g["name"]: g for g in admin.get("/api/v1/group-settings").json()["items"]}
    assert listed["finance-team"]["provisioned"] is True and not listed[name]["provisioned"]

    opt = "/api/v1/options/accounting.default_cost_model"
    got = admin.request("PUT", opt, json={"value": "A4 colour"}).json()
    assert got["value"] == "A4 colour" and got["set_here"] is True
    assert is_problem(admin.request("DELETE", f"{cm}/A4 colour"), 409)  # the option names it
    cleared = admin.request("DELETE", opt).json()
    assert cleared["set_here"] is False and cleared["value"] == cleared["default"]
    keys = [o["key"] for o in admin.get("/api/v1/options").json()["items"]]
    assert "accounting.unknown_users" in keys and keys == sorted(keys)
    assert is_problem(admin.get("/api/v1/options/server.port"), 404)

    # Who, before and after, for each kind of object.
    last = {(e["kind"], e["name"], e["action"]): e for e in reversed(audit(admin, limit=200))}
    mine = {key: last[key] for key in (
        ("cost_model", "A4 colour", "create"), ("cost_model", "A4 colour", "update"),
        ("queue", "priced", "create"), ("rule", "grey", "move"), ("rule", "small", "update"),
        ("rule", "grey", "delete"), ("group", name, "create"), ("group", name, "update"),
        ("group", "finance-team", "set-quota"),
        ("option", "accounting.default_cost_model", "set"),
        ("option", "accounting.default_cost_model", "clear"))}
    assert mine[("cost_model", "A4 colour", "update")]["after"]["job_fee"] == "0.01"
    assert mine[("rule", "grey", "move")]["after"] == {"order": ["grey", "first", "small"]}
    assert mine[("rule", "small", "update")]["before"]["limit"] == 50
    assert mine[("group", name, "update")]["before"]["restricted"] is True
    assert mine[("group", "finance-team", "set-quota")]["after"]["amount"] == "5.00"
    assert mine[("option", "accounting.default_cost_model", "clear")]["before"] == "A4 colour"
    assert {(e["actor"], e["via"]) for e in mine.values()} == {("admin", "session")}
    assert tracebacks(proxy.log()) == []


def test_the_audit_log_is_filtered_and_paged_by_keyset(admin: Client) -> None:
    for i in range(5):
        assert admin.request("PUT", "/api/v1/options/accounting.initial_balance",
                             json={"value": f"{i}.00"}).status_code == 200
    pages, before = [], None
    while True:
        params: dict[str, Any] = {"name": "accounting.initial_balance", "limit": 2}
        if before is not None:
            params["before_id"] = before
        page = admin.get("/api/v1/audit", params=params).json()
        pages.append(page["items"])
        before = page["next_before_id"]
        if before is None:
            break
    seen = [e["after"] for p in pages for e in p]
    assert seen == ["4.00", "3.00", "2.00", "1.00", "0.00"] and len(pages) == 3
    ids = [e["id"] for p in pages for e in p]
    assert ids == sorted(ids, reverse=True)
    first = pages[0][0]["at"]
    assert audit(admin, name="accounting.initial_balance", until=first) != []
    assert audit(admin, name="accounting.initial_balance", actor="someone-else") == []
    bad = admin.get("/api/v1/audit", params={"since": "2026-01-01T00:00:00"})
    assert is_problem(bad, 422) and bad.json()["errors"][0]["field"] == "query.since"


def test_the_dashboard_summary_counts_waiting_jobs(admin: Client, proxy: IppProxy) -> None:
    before = admin.get("/api/v1/dashboard").json()
    assert admin.post(f"{Q}/lab/pause").status_code == 200
    try:
        print_job(proxy.port, proxy.uri("lab"), one_page_pdf(), path=proxy.path("lab"))
        now = until(lambda: (s := admin.get("/api/v1/dashboard").json())["pending"]
                    > before["pending"] and s)
        assert now["pending"] == before["pending"] + 1
    finally:
        assert admin.post(f"{Q}/lab/purge").json()["canceled"] >= 1
        admin.post(f"{Q}/lab/resume")
