"""The REST API on the real server: CSRF on session requests, API tokens (scope, revoke),
jobs (filters, paging, cancel, hold, release), users and accounts (case variants, a
balance adjustment as a ledger row), group rights, problem details, and the audit log."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid

import pikepdf
import requests
from e2e.ipp_client import print_job
from support.server import IppProxy, tracebacks
from support.webapi import Client, cmd, login, trust

from ippproxy.ipp import Attribute, Tag

ALL = ["users", "finance", "printers", "options", "audit"]


def one_page_pdf() -> bytes:
    doc = pikepdf.new()
    doc.add_blank_page(page_size=(595, 842))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def audit_actions(proxy: IppProxy) -> list[dict[str, object]]:
    return [json.loads(line.split(" audit ", 1)[1]) for line in proxy.log().splitlines()
            if "ippproxy.audit: audit " in line]


def is_problem(r: requests.Response, status: int) -> bool:
    body = r.json()
    return (r.status_code == status and r.headers["Content-Type"].startswith(
        "application/problem+json") and body["status"] == status
        and {"type", "title", "detail"} <= set(body))


def test_session_changes_need_the_csrf_token_and_other_schemes_prove_nobody(
        admin: Client, base: str) -> None:
    body = {"name": "csrf-check", "access": "read", "sections": ["users"]}
    bare = Client(base, cookie=admin.cookie)  # the cookie a cross-site form would carry
    assert is_problem(bare.post("/api/v1/tokens", json=body), 403)
    forged = Client(base, cookie=admin.cookie, csrf="x" * 43)
    assert is_problem(forged.post("/api/v1/tokens", json=body), 403)
    assert admin.post("/api/v1/tokens", json=body).status_code == 201
    # Reads need no token; Basic (not enabled here) proves nobody, even beside a cookie.
    assert bare.get("/api/v1/jobs").status_code == 200
    basic = bare.get("/api/v1/jobs", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert is_problem(basic, 401) and basic.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_are_scoped_shown_once_and_revocable(admin: Client, base: str,
                                                    proxy: IppProxy) -> None:
    r = admin.post("/api/v1/tokens", json={"name": "reader", "access": "read",
                                           "sections": ["printers", "users", "finance"]})
    assert r.status_code == 201
    created = r.json()
    reader = Client(base, token=created["token"])
    assert reader.get("/api/v1/jobs").status_code == 200
    denied = reader.post(f"/api/v1/jobs/{uuid.uuid4()}/cancel")
    assert is_problem(denied, 403)
    assert is_problem(reader.get("/api/v1/tokens"), 403)  # options not granted
    listed = admin.get("/api/v1/tokens").json()["items"]
    mine = [t for t in listed if t["id"] == created["id"]]
    assert mine and "token" not in mine[0] and mine[0]["last_used_at"] is not None
    assert created["token"] not in proxy.log()  # never logged
    assert admin.request("DELETE", f"/api/v1/tokens/{created['id']}").status_code == 200
    assert is_problem(reader.get("/api/v1/jobs"), 401)
    again = admin.get("/api/v1/tokens?include_revoked=true").json()["items"]
    assert [t["revoked_at"] is not None for t in again if t["id"] == created["id"]] == [True]
    assert is_problem(admin.request("DELETE", f"/api/v1/tokens/{uuid.uuid4()}"), 404)


def test_jobs_are_listed_filtered_paged_and_changed(admin: Client, proxy: IppProxy,
                                                    write_token: str, base: str) -> None:
    held = [Attribute.single("job-hold-until", Tag.KEYWORD, "indefinite")]
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    for i in range(4):
        print_job(proxy.port, proxy.uri(), one_page_pdf(), user="Alice", name=f"a{i}",
                  path=proxy.path(), job_attrs=held)
    print_job(proxy.port, proxy.uri(), one_page_pdf(), user="bob", name="b0",
              path=proxy.path(), job_attrs=held)
    api = Client(base, token=write_token)
    q = {"user": "ALICE", "state": "pending-held", "since": start.isoformat()}
    page = api.get("/api/v1/jobs", params=q).json()
    assert page["total"] == 4 and {j["owner"] for j in page["items"]} == {"Alice"}  # as sent
    first = api.get("/api/v1/jobs", params={**q, "sort": "job_id", "order": "asc",
                                            "limit": 2}).json()["items"]
    second = api.get("/api/v1/jobs", params={**q, "sort": "job_id", "order": "asc",
                                             "limit": 2, "offset": 2}).json()["items"]
    ids = [j["job_id"] for j in first + second]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert api.get("/api/v1/jobs", params={"printer": "office", "user": "bob"}
                   ).json()["total"] == 1
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert api.get("/api/v1/jobs", params={"since": future}).json()["total"] == 0
    bad = api.get("/api/v1/jobs", params={"state": "asleep", "limit": 501})
    assert is_problem(bad, 422)
    assert {e["field"] for e in bad.json()["errors"]} == {"query.state.0", "query.limit"}
    assert is_problem(api.get("/api/v1/jobs", params={"since": "2026-01-01T00:00:00"}), 422)

    a0, a1, a2 = (j["uuid"] for j in first + second[:1])
    got = api.get(f"/api/v1/jobs/{a0}").json()
    assert got["name"] in {"a0", "a1", "a2", "a3"} and got["state"] == "pending-held"
    canceled = api.post(f"/api/v1/jobs/{a0}/cancel").json()
    assert canceled["state"] == "canceled"
    assert "job-canceled-by-operator" in canceled["state_reasons"]
    assert is_problem(api.post(f"/api/v1/jobs/{a0}/hold"), 409)
    assert is_problem(api.post(f"/api/v1/jobs/{a0}/release"), 409)
    released = api.post(f"/api/v1/jobs/{a1}/release").json()
    assert released["state"] != "pending-held"
    # A session needs its CSRF token for the same change.
    assert is_problem(Client(base, cookie=admin.cookie).post(f"/api/v1/jobs/{a2}/cancel"),
                      403)
    assert admin.post(f"/api/v1/jobs/{a2}/cancel").json()["state"] == "canceled"
    a3 = second[1]["uuid"]
    moved = api.post(f"/api/v1/jobs/{a3}/move", json={"printer": "lab"}).json()
    assert (moved["printer"], moved["job_id"], moved["state"]) == ("lab", 1, "pending-held")
    assert is_problem(api.post(f"/api/v1/jobs/{a0}/move", json={"printer": "lab"}), 409)
    nowhere = api.post(f"/api/v1/jobs/{a3}/move", json={"printer": "nowhere"})
    assert is_problem(nowhere, 422) and nowhere.json()["errors"][0]["field"] == "printer"
    assert is_problem(api.get(f"/api/v1/jobs/{uuid.uuid4()}"), 404)
    actions = [(e["action"], e["target"], e["actor"]) for e in audit_actions(proxy)]
    assert ("job.cancel", f"job:{a0}", "token:suite") in actions
    assert ("job.release", f"job:{a1}", "token:suite") in actions
    assert ("job.cancel", f"job:{a2}", "admin") in actions
    assert ("job.move", f"job:{a3}", "token:suite") in actions


def test_users_accounts_adjustments_and_group_rights(admin: Client, proxy: IppProxy,
                                                     base: str) -> None:
    done = cmd(proxy, "add-internal-user", "Carol", "--password-file", "-",
               "--group", "finance-team", stdin="carol-secret-1\n")
    assert done.returncode == 0, done.stderr
    users = admin.get("/api/v1/users", params={"search": "aro"}).json()
    assert [u["username"] for u in users["items"]] == ["carol"]
    assert admin.get("/api/v1/users/CAROL").json()["username"] == "carol"  # one identity
    for trick in ("/api/v1/users/carol%2F..%2Fadmin", "/api/v1/users/..%2Fadmin",
                  "/api/v1/users/carol%00", "/api/v1/users/carol/../admin"):
        r = admin.get(trick)
        assert r.status_code in (401, 404, 422), (trick, r.status_code)
    accounts = admin.get("/api/v1/accounts", params={"kind": "personal"}).json()["items"]
    carol_account = next(a for a in accounts if a["owner"] == "carol")
    path = f"/api/v1/accounts/{carol_account['id']}"
    r = admin.post(path + "/adjustments", json={"amount": 250, "reason": "top-up, receipt 17",
                                                "key": "receipt-17"})
    assert r.status_code == 201 and r.json()["balance"] == carol_account["balance"] + 250
    replay = admin.post(path + "/adjustments", json={"amount": 250, "reason": "top-up",
                                                     "key": "receipt-17"})
    assert replay.json()["balance"] == carol_account["balance"] + 250  # applied once
    rows = admin.get(path + "/transactions", params={"order": "desc", "limit": 1}).json()
    assert rows["items"][0]["reason"] == "top-up, receipt 17"
    assert rows["items"][0]["actor"] == "admin" and rows["items"][0]["amount"] == 250
    no_reason = admin.post(path + "/adjustments", json={"amount": 5, "reason": ""})
    assert is_problem(no_reason, 422) and no_reason.json()["errors"][0]["field"] == \
        "body.reason"
    as_text = admin.post(path + "/adjustments", json={"amount": "5", "reason": "x"})
    assert is_problem(as_text, 422)  # money is an integer, never a string or a float
    assert is_problem(admin.post(path + "/adjustments", json={"amount": 0.5, "reason": "x"}),
                      422)

    # Carol logs in with no admin rights: 403 everywhere admin is needed.
    carol = login(base, "carol", "carol-secret-1")
    assert is_problem(carol.get("/api/v1/accounts"), 403)
    assert is_problem(carol.get("/api/v1/users"), 403)
    # Her group is given read on finance: accounts yes, adjustments and users no.
    r = admin.request("PUT", "/api/v1/groups/Finance-Team/rights",
                      json={"rights": {"finance": "read"}})
    assert r.status_code == 200 and r.json()["rights"]["finance"] == "read"
    assert carol.get("/api/v1/accounts").status_code == 200
    assert is_problem(carol.post(path + "/adjustments", json={"amount": 1, "reason": "me"}),
                      403)
    assert is_problem(carol.get("/api/v1/users"), 403)
    # The admin role makes her a full admin, in the session she already has.
    assert cmd(proxy, "set-user-property", "carol", "admin", "true").returncode == 0
    assert carol.get("/api/v1/users").status_code == 200
    entries = audit_actions(proxy)
    adjust = [e for e in entries if e["action"] == "account.adjust"]
    assert len(adjust) == 1 and adjust[0]["before"] == {"balance": carol_account["balance"]}
    assert any(e["action"] == "group.rights" for e in entries)
    assert tracebacks(proxy.log()) == []
    assert re.search(r" ERROR ", proxy.log()) is None


def test_control_characters_are_refused_with_the_field_named(admin: Client, base: str,
                                                             write_token: str) -> None:
    api = Client(base, token=write_token)
    r = api.get("/api/v1/users", params={"search": "a\x00b"})
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "query.search"
    assert is_problem(api.get("/api/v1/jobs", params={"printer": "lab\r\nX-Evil: 1"}), 422)
    assert is_problem(api.get("/api/v1/jobs/%00"), 404)
    assert is_problem(api.get("/api/v1/users/bob%07"), 422)
    bad = api.post("/api/v1/tokens", json={"name": "x\ny", "access": "read",
                                           "sections": ["users"]})
    assert is_problem(bad, 422) and bad.json()["errors"][0]["field"] == "body.name"
    login_nul = requests.post(verify=trust(base), url=base + "/api/v1/session",
                              json={"username": "ad\x00min", "password": "x"}, timeout=30)
    assert is_problem(login_nul, 422)


def test_unknown_query_parameters_are_refused(write_token: str, base: str) -> None:
    api = Client(base, token=write_token)
    r = api.get("/api/v1/jobs", params={"owner": "alice"})  # the filter is called "user"
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "query.owner"
    r = api.get("/api/v1/groups", params={"limit": "5"})
    assert is_problem(r, 422) and r.json()["errors"][0]["field"] == "query.limit"
