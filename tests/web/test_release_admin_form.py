"""The admin's queue form sets a queue's hold/release mode, its approvers and pin_required
(web/pages/printers.py, issue 17 §6): the queue then holds its jobs, and the form shows
what is set; approvers without approval are refused naming the field."""

from __future__ import annotations

from pathlib import Path

from support.server import IppProxy
from support.webapi import Client

from .conftest import ipp_print
from .test_admin_http import call


def test_the_form_makes_an_approval_queue(served: IppProxy, served_admin: Client,
                                          pdf: Path) -> None:
    csrf = served_admin.csrf or ""
    dest = f"ipp://127.0.0.1:{served.virtual_printer_port}/ipp/print"
    form = {"csrf_token": csrf, "name": "vault", "destination": dest, "release": "secure",
            "approvers": "carol"}
    status, body = call(served_admin, "/admin/printers/new", form=form)
    assert status == 422 and "approvers" in body and "aria-invalid=\"true\"" in body
    form.update(release="approval", approvers="carol, @managers", pin_required="on")
    status, _ = call(served_admin, "/admin/printers/new", form=form)
    assert status == 303
    status, body = call(served_admin, "/admin/printers/vault/edit")
    assert status == 200 and 'value="approval" selected' in body
    assert 'value="carol, @managers"' in body and 'name="pin_required" checked' in body
    r = served_admin.get("/api/v1/queues/vault")
    got = r.json()
    assert (got["release"], got["approvers"], got["pin_required"]) == (
        "approval", ["carol", "@managers"], True), got
    status, _ = call(served_admin, "/admin/printers/vault/edit", form={
        "csrf_token": csrf, "destination": dest, "release": "secure"})
    assert status == 303
    out = ipp_print(served, pdf, user="frank", queue="vault", name="vault-job")
    assert "job-id" in out
    held = served_admin.get("/api/v1/jobs", params={"printer": "vault"}).json()["items"]
    assert [(j["state"], j["state_reasons"]) for j in held] == [
        ("pending-held", ["job-hold-until-specified"])], held
