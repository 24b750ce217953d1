"""``/api/v1/me/jobs`` and ``/api/v1/me/accounts``: a logged-in user's own jobs, the
accounts they may charge, and their answer to a job's account question
(services/userside.py). Any proven actor may call these; each sees and answers for their
own jobs only (another user's job is 404, one that waits for no answer 409)."""

from __future__ import annotations

import asyncio
import math
from typing import Annotated, Any

from pydantic import Field

from ippproxy.accounting.identity import canonical_name
from ippproxy.jobs.records import JobRecord
from ippproxy.services.errors import Forbidden, Invalid, NotFound
from ippproxy.services.userside import UserSide
from ippproxy.web.api import Call, Operation
from ippproxy.web.me_api import user_of
from ippproxy.web.models import Name, Printable, Request, Response, StateName, Time
from ippproxy.web.problem import problem


class MyJob(Response):
    uuid: str
    printer: str
    job_id: int
    name: str | None
    state: StateName
    reasons: list[str]
    message: str | None
    created_at: Time
    account: str | None = Field(description="the shared account's code; null: personal")
    estimate: int | None = Field(description="the price at intake, minor units")


class MyJobs(Response):
    items: list[MyJob]


class MyJobsQuery(Request):
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class MyAccount(Response):
    code: str | None = Field(description="null: your personal account")
    name: str
    balance: int
    currency: str
    restricted: bool
    credit_limit: int
    pin: bool


class MyAccounts(Response):
    items: list[MyAccount]


class MyAccountsQuery(Request):
    q: Annotated[str, Field(min_length=1, max_length=64), Printable] | None = Field(
        None, description="only accounts whose code or name holds this (any case)")
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class AccountChoice(Request):
    account: Annotated[str, Field(min_length=1, max_length=64), Printable] | None = Field(
        None, description="a shared account's code; null: your personal account")
    pin: Annotated[str, Field(pattern=r"^[0-9]{1,32}$")] | None = Field(
        None, description="the shared account's PIN, when it has one (`pin: true` in "
                          "/me/accounts); 1 to 32 digits")
    as_user: Name | None = Field(
        None, description="print as this other user (with their password), where the "
                          "question offers it: charged to and owned by them; instead of "
                          "account")
    password: Annotated[str, Field(min_length=1, max_length=1024)] | None = Field(
        None, description="the as_user's password")


class IdentityAnswer(Request):
    username: Name
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class Confirmation(Request):
    print: bool = Field(description="true: print the job; false: cancel it (refunded)")


def _side(call: Call) -> UserSide:
    side = call.services.userside
    if side is None:    # accounting off: nobody has accounts
        raise NotFound("account service", "me")
    return side


def my_job(j: JobRecord) -> dict[str, Any]:
    analysis = j.analysis or {}
    return {"uuid": j.uuid, "printer": j.queue, "job_id": j.job_id, "name": j.name,
            "state": j.state.keyword, "reasons": list(j.state_reasons),
            "message": j.state_message, "created_at": j.created_at,
            "account": analysis.get("account"), "estimate": analysis.get("estimate")}


async def list_my_jobs(call: Call) -> Any:
    q: MyJobsQuery = call.query
    found = await _side(call).jobs(user_of(call), limit=q.limit)
    return {"items": [my_job(j) for j in found]}


async def list_my_accounts(call: Call) -> Any:
    q: MyAccountsQuery = call.query
    found = await asyncio.to_thread(_side(call).accounts, user_of(call), q.q)
    return {"items": [a.__dict__ for a in found[:q.limit]]}


async def choose_account(call: Call) -> Any:
    body: AccountChoice = call.body
    address = call.request.remote or ""
    if body.as_user is None:
        if "account" not in body.model_fields_set:   # null is an answer: the personal one
            raise Invalid("account", "required: an account code, null, or as_user")
        return my_job(await _side(call).choose_account(
            user_of(call), call.path["uuid"], body.account, body.pin, address=address))
    if "account" in body.model_fields_set or body.pin is not None:
        raise Invalid("as_user", "either an account (with its PIN) or another user")
    if body.password is None:
        raise Invalid("password", "required with as_user")
    if call.services.print_as is None:
        raise NotFound("account service", "me")
    return my_job(await call.services.print_as.answer(
        user_of(call), call.path["uuid"], body.as_user, body.password, address=address))


async def confirm_job(call: Call) -> Any:
    body: Confirmation = call.body
    return my_job(await _side(call).confirm(user_of(call), call.path["uuid"], body.print))


async def confirm_identity(call: Call) -> Any:
    """Who printed a job of a "popup" queue (one in the caller's name, or sent from the
    caller's address: the socket's peer, services/nearby.py); failed passwords count
    against the login throttle of that name and address, as a failed login does."""
    body: IdentityAnswer = call.body
    svc = call.services
    address = call.request.remote or ""
    try:
        key = canonical_name(body.username)
    except ValueError:   # no user has such a name: throttled under it as sent
        key = body.username[:255]
    wait = await asyncio.to_thread(svc.throttle.retry_after, key, address)
    if wait > 0:
        return problem(429, "too many failed logins; try again later", kind="login-throttled",
                       headers={"Retry-After": str(math.ceil(wait))})
    try:
        job = await _side(call).confirm_identity(user_of(call), call.path["uuid"],
                                                 body.username, body.password, address)
    except Forbidden:
        await asyncio.to_thread(svc.throttle.failed, key, address)
        raise
    return my_job(job)


OPERATIONS = (
    Operation("GET", "/me/jobs", list_my_jobs, "Your jobs, newest first", "me",
              query=MyJobsQuery, response=MyJobs),
    Operation("GET", "/me/accounts", list_my_accounts,
              "The accounts you may charge; q: those whose code or name holds it", "me",
              query=MyAccountsQuery, response=MyAccounts),
    Operation("POST", "/me/jobs/{uuid}/account", choose_account,
              "Answer a held job's account question: charge it there (with the "
              "account's PIN when it has one), or print as another user (their "
              "password), and release it",
              "me", body=AccountChoice, response=MyJob,
              path_params={"uuid": "the job's UUID"}, throttled=True),
    Operation("POST", "/me/jobs/{uuid}/identity", confirm_identity,
              "Confirm who printed a job of a \"popup\" queue (user name and password): "
              "that user owns it and pays for it", "me", body=IdentityAnswer, response=MyJob,
              path_params={"uuid": "the job's UUID"}, throttled=True),
    Operation("POST", "/me/jobs/{uuid}/confirm", confirm_job,
              "Answer a job's last-chance confirmation: print it or cancel it", "me",
              body=Confirmation, response=MyJob, path_params={"uuid": "the job's UUID"}),
)
