"""Editing users over the REST API on a real server (issue 18; SQLite and PostgreSQL):
create an internal user, each section of the edit view, uniqueness and bad input as
problem JSON naming the field, a balance set as a correction row, delete (logical, then
409 for any edit), erasure and the personal data ZIP; a disabled user's print job is
refused with client-error-not-authorized saying the account is disabled (ipptool)."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import requests
from support.server import IppProxy
from support.webapi import Client, login

from .conftest import ipp_print

U = "/api/v1/users"


def problem(r: requests.Response, status: int) -> dict[str, object]:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/problem+json"), r.headers
    body: dict[str, object] = r.json()
    return body


def field_of(body: dict[str, object]) -> list[str]:
    errors = body.get("errors") or []
    assert isinstance(errors, list)
    return [str(e["field"]) for e in errors]


def patch(client: Client, name: str, body: object) -> requests.Response:
    return client.request("PATCH", f"{U}/{name}", json=body)


def create(client: Client, name: str, password: str = "a fine password") -> requests.Response:
    return client.post(U, json={"username": name, "password": password,
                                "full_name": name.title()})


def test_each_section_through_the_api(admin: Client, base: str) -> None:
    problem(create(admin, "ann", "short"), 422)
    r = create(admin, "Ann")
    assert r.status_code == 201 and r.json() == {"username": "ann"}, r.text
    problem(create(admin, "ANN"), 409)
    assert create(admin, "ben").status_code == 201
    r = patch(admin, "ANN", {"full_name": "Ann Smith", "person": False,
                             "emails": "ann@example.org, ann2@example.org",
                             "card_number": "305419896", "card_format": "dec",
                             "card_order": "msb", "id_number": "A-1", "pin": "2468",
                             "credit_source": "individual", "credit_limit": 300})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["full_name"], got["person"], got["emails"], got["card_number"],
            got["id_number"], got["pin_set"], got["credit_limit"]) == (
        "Ann Smith", False, ["ann@example.org", "ann2@example.org"], "78563412", "A-1",
        True, 300)
    assert "pin" not in got and "password" not in got
    assert admin.get(f"{U}/ann/properties").json() == got
    # another user's values, bad values: 422 naming the field; nothing changed
    for body, field in (({"emails": "ANN2@example.org"}, "email"),
                        ({"card_number": "78563412"}, "card-number"),
                        ({"id_number": "A-1"}, "id-number"),
                        ({"card_number": "not hex"}, "card-number"),
                        ({"pin": "12ab"}, "pin"),
                        ({"password": "short"}, "password")):
        p = problem(patch(admin, "ben", body), 422)
        assert field in json.dumps(p), (body, p)
    problem(patch(admin, "ben", {"pin": 1234}), 422)  # not a string
    problem(patch(admin, "ben", {"nickname": "x"}), 422)  # no such field
    assert admin.get(f"{U}/ben/properties").json()["emails"] == []
    # the token, the balance (a correction transaction), the password
    first = admin.post(f"{U}/ann/token").json()["uuid_token"]
    assert admin.post(f"{U}/ann/token").json()["uuid_token"] != first
    r = admin.request("PUT", f"{U}/ann/balance", json={"balance": 1500, "reason": "cash"})
    assert r.status_code == 200 and r.json()["balance"] == 1500, r.text
    r = patch(admin, "ann", {"password": ""})
    assert r.status_code == 200 and r.json()["password_set"] is False
    # a user without the users section may not edit anyone, himself included
    assert patch(admin, "ben", {"password": "ben's password"}).status_code == 200
    ben = login(base, "ben", "ben's password")
    problem(patch(ben, "ben", {"admin": True}), 403)
    problem(ben.get(f"{U}/ann/properties"), 403)


def test_delete_erase_and_download(admin: Client) -> None:
    assert create(admin, "cleo").status_code == 201
    assert create(admin, "dora").status_code == 201
    patch(admin, "cleo", {"full_name": "Cleo C", "emails": "cleo@example.org",
                          "card_number": "0A0B"})
    admin.request("PUT", f"{U}/cleo/balance", json={"balance": 250, "reason": "start"})
    r = admin.get(f"{U}/cleo/personal-data")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    assert "attachment" in r.headers["Content-Disposition"]
    z = zipfile.ZipFile(io.BytesIO(r.content))
    data = json.loads(z.read("personal-data.json"))
    assert data["profile"]["emails"] == ["cleo@example.org"]
    assert [t["amount"] for t in data["transactions"]] == [250]
    assert {"user.create", "user.edit", "user.balance"} <= {a["action"] for a in data["audit"]}
    assert "cleo@example.org" in z.read("profile.csv").decode()
    r = admin.post(f"{U}/cleo/erasure")
    assert r.status_code == 200, r.text
    placeholder = r.json()["username"]
    got = admin.get(f"{U}/{placeholder}/properties").json()
    assert (got["full_name"], got["emails"], got["card_number"], got["balance"]) == (
        "", [], None, 250)
    assert got["erased_at"] == r.json()["erased_at"]
    problem(admin.get(f"{U}/cleo/properties"), 404)
    # delete: logical with a ledger, physical without; a deleted user cannot be edited
    r = admin.request("DELETE", f"{U}/{placeholder}")
    assert r.status_code == 200 and r.json()["deleted"] == "logical", r.text
    p = problem(patch(admin, placeholder, {"full_name": "x"}), 409)
    assert "deleted" in str(p["detail"])
    problem(admin.get(f"{U}/{placeholder}/properties"), 409)
    r = admin.request("DELETE", f"{U}/DORA")
    assert r.status_code == 200 and r.json()["deleted"] == "physical", r.text
    problem(admin.get(f"{U}/dora/properties"), 404)


DENIED_TEST = """{
  NAME "Print-Job as a disabled user"
  OPERATION Print-Job
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR language attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name erik
  FILE $filename
  STATUS client-error-not-authorized
  EXPECT status-message WITH-VALUE "/account of user 'erik' is disabled/"
}
"""


def test_a_disabled_user_cannot_print(admin: Client, proxy: IppProxy, pdf: Path) -> None:
    assert create(admin, "erik").status_code == 201
    assert patch(admin, "erik", {"disabled": True}).status_code == 200
    test = pdf.parent / "denied.test"
    test.write_text(DENIED_TEST)
    done = subprocess.run(["ipptool", "-T", "20", "-tv", "-f", str(pdf), proxy.uri("office"),
                           str(test)], check=False, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_abstract_user_loses_its_held_documents(admin: Client, proxy: IppProxy,
                                                   pdf: Path) -> None:
    assert create(admin, "Lia").status_code == 201
    ipp_print(proxy, pdf, user="Lia", hold=True, name="lia-held")
    ipp_print(proxy, pdf, user="lia", hold=True, name="lia-held-2")

    def held() -> list[str]:
        r = admin.get("/api/v1/jobs", params={"user": "lia", "state": "pending-held"})
        assert r.status_code == 200, r.text
        return [j["uuid"] for j in r.json()["items"]]
    assert len(held()) == 2
    r = patch(admin, "lia", {"person": False})
    assert r.status_code == 200 and r.json()["person"] is False, r.text
    assert held() == []
    r = admin.get("/api/v1/jobs", params={"user": "lia", "state": "canceled"})
    assert len(r.json()["items"]) == 2
