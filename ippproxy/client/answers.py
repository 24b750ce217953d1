"""Answering a popup over the same API: ``POST /api/v1/me/jobs/{uuid}/account`` (the
account to charge: a shared account's code, or null for the personal account, with the
account's PIN when it has one, or another user's name and password to print as them) and
``POST /api/v1/me/jobs/{uuid}/confirm`` (print or cancel) and
``POST /api/v1/me/jobs/{uuid}/identity`` (who printed a job of an ``authentication =
"popup"`` queue: a user name and password, every job). The server checks everything
again (the job is the caller's, it still waits, the account may be charged by them);
a refusal comes back as ``Refused`` with its reason."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ippproxy.client.api import Api
from ippproxy.client.errors import ClientFailure

PERSONAL = "personal"


def pick(choices: list[dict[str, Any]], wanted: str) -> dict[str, Any]:
    """The choice ``wanted`` names: a number from the list (1-based), a shared account's
    code or name, or ``personal`` for the personal account (compared case-insensitively)."""
    w = wanted.strip().casefold()
    if w.isdigit() and 1 <= int(w) <= len(choices):
        return choices[int(w) - 1]
    for c in choices:
        if c.get("code") is None and w == PERSONAL:
            return c
        if w in (str(c.get("code") or "").casefold(), str(c.get("name") or "").casefold()):
            return c
    raise ClientFailure(f"no account {wanted!r} among the choices")


BY_CODE = "code:"   # "code:PHYS": an account typed by its code, not picked from the list


def resolve(choices: list[dict[str, Any]], wanted: str) -> tuple[str | None, bool | None]:
    """The code ``wanted`` names and whether that account needs its PIN (None: not
    known): ``code:CODE`` types a code (by code/PIN; the server decides whether it may be
    charged), anything else is picked from the choices."""
    if wanted.strip().casefold().startswith(BY_CODE):
        typed = wanted.strip()[len(BY_CODE):].strip()
        if not typed:
            raise ClientFailure("no account code after 'code:'")
        known = [c for c in choices if c.get("code") == typed]
        return typed, bool(known[0].get("pin")) if known else None
    c = pick(choices, wanted)
    code = c.get("code")
    return (None if code is None else str(code)), bool(c.get("pin"))


async def choose_account(api: Api, uuid: str, code: str | None,
                         pin: str | None = None) -> Any:
    body: dict[str, Any] = {"account": code}
    if pin is not None:
        body["pin"] = pin
    return await api.call("POST", f"/api/v1/me/jobs/{quote(uuid, safe='')}/account", body)


async def print_as(api: Api, uuid: str, name: str, password: str) -> Any:
    """"Print as another user": ``name``'s password; the job becomes theirs."""
    return await api.call("POST", f"/api/v1/me/jobs/{quote(uuid, safe='')}/account",
                          {"as_user": name, "password": password})


async def confirm(api: Api, uuid: str, go: bool) -> Any:
    return await api.call("POST", f"/api/v1/me/jobs/{quote(uuid, safe='')}/confirm",
                          {"print": go})


async def account_by_name(api: Api, wanted: str) -> tuple[str | None, bool | None]:
    """A code for ``wanted`` from the accounts the user may charge (for answering a job
    named on the command line, whose popup was not seen), and whether it needs its PIN."""
    found = await api.call("GET", "/api/v1/me/accounts")
    return resolve(list(found.get("items", [])), wanted)


async def identify(api: Api, uuid: str, name: str, password: str) -> Any:
    return await api.call("POST", f"/api/v1/me/jobs/{quote(uuid, safe='')}/identity",
                          {"username": name, "password": password})
