"""Job privacy by default, as cupsd (``JobPrivateAccess default``, ``JobPrivateValues
default``): another user sees neither the name nor the owner of a job in Get-Jobs and
Get-Job-Attributes (left out, as cupsd's copy_attrs does); the owner and proven admins see
them; ``[[queue]] private_jobs = false`` shows them to everyone."""

from __future__ import annotations

from pathlib import Path

from ippproxy.config import QueueConfig
from ippproxy.ipp import Attribute, Group, Tag
from ippproxy.ipp import Operation as Op

from .client import Ipp, a, status
from .conftest import Started, make_config
from .test_server_flow import PDF_FMT

J = Tag.JOB_ATTRIBUTES
NAMES = ("job-name", "job-originating-user-name", "job-originating-host-name",
         "document-name-supplied")
WANTED = a("requested-attributes", Tag.KEYWORD, "all")


async def _print(ipp: Ipp, pdf: bytes) -> int:
    m = await ipp.call(Op.PRINT_JOB, a("job-name", Tag.NAME, "salary review.pdf"),
                       a("document-name", Tag.NAME, "salary review.pdf"), PDF_FMT, data=pdf)
    assert status(m) == "successful-ok"
    job_id = m.get(J, "job-id")
    assert job_id is not None and isinstance(job_id.value, int)
    return job_id.value


async def _views(ipp: Ipp, job_id: int, user: str) -> list[dict[str, object]]:
    """What ``user`` sees of the job: through Get-Job-Attributes and Get-Jobs."""
    one = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id), WANTED,
                         user=user)
    many = await ipp.call(Op.GET_JOBS, WANTED, a("which-jobs", Tag.KEYWORD, "all"), user=user)
    assert status(one) == status(many) == "successful-ok"
    groups = [g for g in many.groups_of(J)
              if (i := g.get("job-id")) is not None and i.value == job_id]
    assert len(groups) == 1
    return [{a.name: a.value for a in g.attributes} for g in (*one.groups_of(J), groups[0])]


async def test_other_users_see_neither_name_nor_owner(ipp: Ipp, pdf: bytes) -> None:
    job_id = await _print(ipp, pdf)
    for view in await _views(ipp, job_id, "bob"):
        assert view["job-id"] == job_id and "job-state" in view
        assert not set(NAMES) & view.keys(), view
    for view in await _views(ipp, job_id, "alice"):      # the owner
        assert view["job-name"] == "salary review.pdf"
        assert view["job-originating-user-name"] == "alice"
    admin = await ipp.admin()                              # a proven admin
    for view in await _views(admin, job_id, "bob"):
        assert view["job-originating-user-name"] == "alice"


async def test_other_users_see_no_subscriber_nor_user_data(ipp: Ipp) -> None:
    """cupsd's default SubscriptionPrivateValues; the notifications themselves carry no
    job name nor owner (notify-text is "job N: event")."""
    sub = Group(Tag.SUBSCRIPTION_ATTRIBUTES, (
        a("notify-pull-method", Tag.KEYWORD, "ippget"),
        a("notify-events", Tag.KEYWORD, "job-created"),
        Attribute.single("notify-user-data", Tag.OCTET_STRING, b"alice's")))
    m = await ipp.call(Op.CREATE_PRINTER_SUBSCRIPTIONS, groups=(sub,))
    assert status(m) == "successful-ok"

    async def seen(user: str) -> dict[str, object]:
        m = await ipp.call(Op.GET_SUBSCRIPTIONS, user=user)
        (group,) = m.groups_of(Tag.SUBSCRIPTION_ATTRIBUTES)
        return {a.name: a.value for a in group.attributes}

    mine, theirs = await seen("alice"), await seen("bob")
    assert mine["notify-subscriber-user-name"] == "alice"
    assert mine["notify-user-data"] == b"alice's"
    assert "notify-subscription-id" in theirs
    assert not {"notify-subscriber-user-name", "notify-user-data", "notify-events",
                "notify-pull-method"} & theirs.keys(), theirs


async def test_a_queue_may_show_jobs_to_everyone(start_proxy: Started, tmp_path: Path,
                                                 pdf: bytes) -> None:
    cfg = make_config(tmp_path, queues=(QueueConfig("open", private_jobs=False),))
    ipp = await start_proxy(cfg)
    job_id = await _print(ipp, pdf)
    for view in await _views(ipp, job_id, "bob"):
        assert view["job-name"] == "salary review.pdf"
        assert view["job-originating-user-name"] == "alice"
