"""Payer problems hold a job, they never refuse it (pipeline/payer.py, issue 17): on the
real pipeline (real PDFs, a real job store and ledger), no HTTP.

Prices (queue "colour"): 0.10 mono, 0.50 colour per impression, 0.05 per job."""

from __future__ import annotations

import uuid

import pipeline_docs as docs
import pytest
from conftest import BASE, add_user, build, config, submission
from sqlalchemy import Connection, Engine, update

from ippproxy.accounting import ledger, users
from ippproxy.accounting.ledger import Kind
from ippproxy.accounting.models import ACCOUNTS
from ippproxy.accounting.txn import in_transaction
from ippproxy.filters.pool import AnalysisPool
from ippproxy.ipp import Attribute, Status, Tag
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import Refused
from ippproxy.pipeline.payer import PayerReason, priced_counts

QUEUES = [*BASE["queue"], {"name": "billed", "cost_model": "colour", "account_required": True}]


def rows(engine: Engine, job: str) -> list[tuple[int, str]]:
    found: list[ledger.Posting] = in_transaction(
        engine, lambda c: ledger.entries(c, job_uuid=uuid.UUID(job)))
    return [(r.amount, r.kind) for r in found]


def account(name: str, value: str, tag: Tag = Tag.NAME) -> Attribute:
    return Attribute.single(name, tag, value)


def shared(engine: Engine, code: str, *, balance: int, grant: str | None = None,
           disabled: bool = False) -> None:
    def work(conn: Connection) -> None:
        users.add_shared_account(conn, code.title(), code, currency="EUR", balance=balance)
        if grant:
            users.grant_account(conn, code, user=grant)
        if disabled:
            conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.code == code).values(disabled=True))
    in_transaction(engine, work)


def credit(engine: Engine, user: str, amount: int) -> None:
    def work(conn: Connection) -> None:
        user_id = users.get_user(conn, user)._mapping["id"]
        acct = users.personal_account(conn, user_id)._mapping["id"]
        ledger.post(conn, acct, amount, kind=Kind.ADJUST, reason="top-up", actor="test",
                    key=f"topup:{uuid.uuid4()}")
    in_transaction(engine, work)


def held(job: JobRecord, reason: PayerReason) -> None:
    assert job.state == JobState.PENDING_HELD, job.state
    assert job.state_reasons == (reason.value,)
    assert job.hold_until == "indefinite"


async def test_over_the_limit_is_held_then_charged_once_when_paid(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    add_user(engine, "poor", balance=10)
    job = (await p.intake.print_job(submission(docs.pdf_bytes([True]), user="poor"))).job
    held(job, PayerReason.LIMIT_REACHED)
    assert job.state_message is not None
    assert "balance 0.10 EUR" in job.state_message and "cost 0.55 EUR" in job.state_message
    assert rows(engine, job.uuid) == []                       # nothing reserved
    hold = await p.intake.pay_held(job)                       # still poor: still held
    assert hold is not None and hold.reason == PayerReason.LIMIT_REACHED
    assert rows(engine, job.uuid) == []
    credit(engine, "poor", 100)
    assert await p.intake.pay_held(job) is None               # paid now
    assert rows(engine, job.uuid) == [(-55, "charge")]
    assert await p.intake.pay_held(job) is None               # twice: charged once
    assert rows(engine, job.uuid) == [(-55, "charge")]


async def test_accounts_by_job_account_id_and_job_billing(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    add_user(engine, "ann", balance=0)
    shared(engine, "physics", balance=1000, grant="ann")
    shared(engine, "chemistry", balance=1000)                  # not granted to ann
    shared(engine, "history", balance=1000, grant="ann", disabled=True)
    pdf = docs.pdf_bytes([False])
    for attr in (account("job-account-id", "physics"), account("job-billing", "physics",
                                                                Tag.TEXT)):
        job = (await p.intake.print_job(submission(pdf, user="ann", attrs=(attr,)))).job
        assert job.state == JobState.PENDING, job.state_message
        assert rows(engine, job.uuid) == [(-15, "charge")]
        assert job.analysis is not None and job.analysis["account"] == "physics"
    for code, reason in (("chemistry", PayerReason.AUTHORIZATION_FAILED),
                         ("nosuch", PayerReason.AUTHORIZATION_FAILED),
                         ("history", PayerReason.CLOSED)):
        job = (await p.intake.print_job(submission(
            pdf, user="ann", attrs=(account("job-account-id", code),)))).job
        held(job, reason)
        assert rows(engine, job.uuid) == []
    job = (await p.intake.print_job(submission(pdf, user="ann"))).job
    held(job, PayerReason.LIMIT_REACHED)                       # personal account: empty


async def test_a_queue_that_needs_an_account(engine: Engine, store: JobStore, spool: Spool,
                                             pool: AnalysisPool) -> None:
    p = build(config(queue=QUEUES), engine, store, spool, pool)
    add_user(engine, "ann", balance=1000)
    shared(engine, "physics", balance=1000, grant="ann")
    pdf = docs.pdf_bytes([False])
    job = (await p.intake.print_job(submission(pdf, user="ann", queue="billed"))).job
    held(job, PayerReason.INFO_NEEDED)
    assert job.state_message is not None and "job-account-id" in job.state_message
    assert rows(engine, job.uuid) == []
    hold = await p.intake.pay_held(job)
    assert hold is not None and hold.reason == PayerReason.INFO_NEEDED
    assert job.analysis is not None and priced_counts(dict(job.analysis)) is not None
    named = (await p.intake.print_job(submission(
        pdf, user="ann", queue="billed", attrs=(account("job-account-id", "physics"),)))).job
    assert named.state == JobState.PENDING
    assert rows(engine, named.uuid) == [(-15, "charge")]
    other = (await p.intake.print_job(submission(pdf, user="ann"))).job   # "colour": no need
    assert other.state == JobState.PENDING


async def test_send_document_holds_for_the_payer_too(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    add_user(engine, "poor", balance=10)
    job = (await p.intake.create_job(submission(user="poor", op="Create-Job"))).job
    job = await p.intake.send_document(submission(docs.pdf_bytes([True]), user="poor",
                                                  op="Send-Document"), job, last=True)
    held(job, PayerReason.LIMIT_REACHED)
    assert rows(engine, job.uuid) == []


async def test_who_may_not_print_at_all_is_still_refused(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    add_user(engine, "olga", balance=1000)
    in_transaction(engine, lambda c: users.set_user_property(c, "olga", "disabled", "true"))
    with pytest.raises(Refused) as e:
        await p.intake.print_job(submission(docs.pdf_bytes([False]), user="olga"))
    assert e.value.status == Status.CLIENT_ERROR_NOT_AUTHORIZED
    assert await store.count_jobs(None, "all") == 0


def test_priced_counts_refuse_what_is_not_well_formed() -> None:
    assert priced_counts(None) is None
    assert priced_counts({}) is None
    assert priced_counts({"priced": "x"}) is None
    assert priced_counts({"priced": [["iso_a4_210x297mm", 1]]}) is None
    assert priced_counts({"priced": [["iso_a4_210x297mm", -1, 0, 0, 0, 0]]}) is None
    ok = priced_counts({"priced": [["iso_a4_210x297mm", 2, 1, 3, 0, 0]]})
    assert ok is not None and ok.impressions == 3


async def test_account_selection_rules_per_group(engine: Engine, store: JobStore, spool: Spool,
                                                 pool: AnalysisPool) -> None:
    """ask-account: students are asked (held, nothing reserved until answered);
    charge-account: staff are charged to the shared account without asking; a job that
    names its account is charged there whatever the rules say."""
    rules = [*BASE["rule"], {"type": "ask-account", "name": "ask", "groups": ["students"]},
             {"type": "charge-account", "name": "dept", "groups": ["staff"],
              "values": ["physics"]}]
    p = build(config(rule=rules), engine, store, spool, pool)
    add_user(engine, "sam", balance=1000, groups=("students",))
    add_user(engine, "sue", balance=1000, groups=("staff",))
    shared(engine, "physics", balance=1000, grant="sue")
    shared(engine, "maths", balance=1000, grant="sam")
    pdf = docs.pdf_bytes([False])
    asked = (await p.intake.print_job(submission(pdf, user="sam"))).job
    held(asked, PayerReason.INFO_NEEDED)
    assert asked.state_message is not None and "Choose the account" in asked.state_message
    assert rows(engine, asked.uuid) == []
    assert await p.intake.pay_held(asked) is None        # answered "personal" by a release
    assert rows(engine, asked.uuid) == [(-15, "charge")]
    named = (await p.intake.print_job(submission(
        pdf, user="sam", attrs=(account("job-account-id", "maths"),)))).job
    assert named.state == JobState.PENDING and rows(engine, named.uuid) == [(-15, "charge")]
    auto = (await p.intake.print_job(submission(pdf, user="sue"))).job
    assert auto.state == JobState.PENDING
    assert auto.analysis is not None and auto.analysis["account"] == "physics"
    assert rows(engine, auto.uuid) == [(-8, "charge")]    # staff pay half
    with engine.connect() as conn:
        balances = {r.code: r.balance for r in conn.execute(
            ACCOUNTS.select().where(ACCOUNTS.c.code.in_(["physics", "maths"])))}
    assert balances == {"physics": 1000 - 8, "maths": 1000 - 15}
