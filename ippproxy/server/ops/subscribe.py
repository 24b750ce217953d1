"""Subscription operations with the ippget pull method (RFC 3995 §11, RFC 3996 §5):
Create-Printer-Subscriptions, Get-Subscription-Attributes, Get-Subscriptions,
Renew-Subscription, Cancel-Subscription, Get-Notifications."""

from __future__ import annotations

from ippproxy.ipp import Attribute, Group, Operation, PrinterState, Status, Tag
from ippproxy.jobs.subscriptions import SubscriptionStore
from ippproxy.server import attrs as A
from ippproxy.server.context import OpRequest
from ippproxy.server.errors import IppError
from ippproxy.server.operation import OpSpec
from ippproxy.server.ops.common import is_admin, queue_of
from ippproxy.server.response import Reply
from ippproxy.server.subscriptions import (
    DEFAULT_EVENTS,
    DEFAULT_LEASE,
    EVENTS,
    GET_INTERVAL,
    MAX_LEASE,
    Event,
    Subscription,
    Subscriptions,
    octets,
)
from ippproxy.server.uris import printer_uri


def _feed(req: OpRequest) -> Subscriptions:
    if req.ctx.subscriptions is None:
        raise IppError(Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED, "no subscriptions")
    return req.ctx.subscriptions


def _subs(req: OpRequest) -> SubscriptionStore:
    """The subscriptions in the job store, shared by every node (jobs/subscriptions.py)."""
    return _feed(req).store


# Withheld from all but the subscriber and admins on a queue that keeps jobs private:
# cupsd's default SubscriptionPrivateValues (notify-recipient-uri: we have no push method).
SUBSCRIPTION_PRIVATE = frozenset({"notify-events", "notify-pull-method",
                                  "notify-subscriber-user-name", "notify-user-data"})


def _sub_group(req: OpRequest, s: Subscription) -> Group:
    q = req.queue
    private = ((q.config.private_jobs if q is not None else True)
               and s.owner != req.user and not is_admin(req))
    attrs = [
        A.integer("notify-subscription-id", s.id),
        A.keyword("notify-events", *s.events),
        A.integer("notify-lease-duration", s.lease),
        A.keyword("notify-pull-method", "ippget"),
        A.name_("notify-subscriber-user-name", s.owner),
        A.uri("notify-printer-uri", printer_uri(req.origin, s.queue)),
        A.integer("notify-time-interval", s.time_interval),
        A.integer("notify-sequence-number", s.sequence),
        A.charset("notify-charset", "utf-8"),
        A.language("notify-natural-language", "en"),
    ]
    if s.job_id is not None:
        attrs.append(A.integer("notify-job-id", s.job_id))
    if s.user_data is not None:
        attrs.append(Attribute.single("notify-user-data", Tag.OCTET_STRING, s.user_data))
    if private:
        attrs = [a for a in attrs if a.name not in SUBSCRIPTION_PRIVATE]
    return Group(Tag.SUBSCRIPTION_ATTRIBUTES, tuple(attrs))


async def _one(req: OpRequest, group: Group) -> tuple[Attribute, ...]:
    """Create one subscription from a request group; returns the response group's attrs."""
    method = group.get("notify-pull-method")
    if group.get("notify-recipient-uri") is not None:
        return (A.enum("notify-status-code", Status.CLIENT_ERROR_URI_SCHEME_NOT_SUPPORTED),)
    if method is None or method.value != "ippget":
        return (A.enum("notify-status-code",
                       Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED),)
    ev = group.get("notify-events")
    events = tuple(str(v) for v in ev.plain if v in EVENTS) if ev is not None \
        else DEFAULT_EVENTS
    if not events:
        return (A.enum("notify-status-code",
                       Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED),)
    lease_a = group.get("notify-lease-duration")
    lease = lease_a.value if lease_a is not None and isinstance(lease_a.value, int) \
        else DEFAULT_LEASE
    lease = max(0, min(int(lease), MAX_LEASE))
    cap = req.ctx.config.server.max_subscriptions_per_user
    if cap and await _subs(req).owned_by(req.user) >= cap:
        # RFC 3995 §5.3.1: a group not honoured gets its notify-status-code
        return (A.enum("notify-status-code", Status.CLIENT_ERROR_TOO_MANY_SUBSCRIPTIONS),)
    ud = group.get("notify-user-data")
    interval = group.get("notify-time-interval")
    sub = await _subs(req).create(
        queue_of(req).name, req.user, events, lease, None,
        octets(ud.value) if ud is not None else None,
        interval.value if interval is not None and isinstance(interval.value, int) else 0)
    return (A.integer("notify-subscription-id", sub.id),)


async def create_printer_subscriptions(req: OpRequest) -> Reply:
    groups = req.msg.groups_of(Tag.SUBSCRIPTION_ATTRIBUTES)
    if not groups:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "no subscription attributes group")
    # One group after the other: each counts against the per-user cap.
    out = [Group(Tag.SUBSCRIPTION_ATTRIBUTES, await _one(req, g)) for g in groups]
    ok = sum(1 for g in out if g.get("notify-subscription-id") is not None)
    cap = req.ctx.config.server.max_subscriptions_per_user
    if ok == 0 and any(g.get("notify-status-code") == A.enum(
            "notify-status-code", Status.CLIENT_ERROR_TOO_MANY_SUBSCRIPTIONS) for g in out):
        # the per-user cap (cupsd MaxSubscriptions), RFC 3995 §13.1.2.1.1
        return Reply(Status.CLIENT_ERROR_TOO_MANY_SUBSCRIPTIONS,
                     f"{req.user} already holds {cap} subscriptions", tuple(out))
    if ok == 0:
        return Reply(Status.CLIENT_ERROR_IGNORED_ALL_SUBSCRIPTIONS,
                     "no subscription could be created", tuple(out))
    status = Status.SUCCESSFUL_OK if ok == len(out) else \
        Status.SUCCESSFUL_OK_IGNORED_SUBSCRIPTIONS
    return Reply(status, groups=tuple(out))


async def _target_sub(req: OpRequest, sid: object, own: bool = True) -> Subscription:
    if not isinstance(sid, int):
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing notify-subscription-id")
    s = await _subs(req).get(sid)
    if s is None or s.queue != queue_of(req).name:
        raise IppError(Status.CLIENT_ERROR_NOT_FOUND, f"subscription {sid} does not exist")
    if own and s.owner != req.user and not is_admin(req):
        raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED,
                       f"subscription {sid} belongs to another user")
    return s


async def get_subscription_attributes(req: OpRequest) -> Reply:
    s = await _target_sub(req, req.op_value("notify-subscription-id"), own=False)
    return Reply(groups=(_sub_group(req, s),))


async def get_subscriptions(req: OpRequest) -> Reply:
    subs = await _subs(req).list(queue_of(req).name)
    job_id = req.op_value("notify-job-id")
    subs = [s for s in subs if s.job_id == (job_id if isinstance(job_id, int) else None)]
    if req.op_value("my-subscriptions") is True:
        subs = [s for s in subs if s.owner == req.user]
    limit = req.op_value("limit")
    if isinstance(limit, int) and limit > 0:
        subs = subs[:limit]
    return Reply(groups=tuple(_sub_group(req, s) for s in subs))


async def renew_subscription(req: OpRequest) -> Reply:
    s = await _target_sub(req, req.op_value("notify-subscription-id"))
    if s.job_id is not None:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, "job subscriptions have no lease")
    lease = req.op_value("notify-lease-duration", DEFAULT_LEASE)
    lease = max(0, min(int(lease) if isinstance(lease, int) else DEFAULT_LEASE, MAX_LEASE))
    renewed = await _subs(req).renew(s.id, lease)
    if renewed is None:       # canceled or run out meanwhile (on another node, perhaps)
        raise IppError(Status.CLIENT_ERROR_NOT_FOUND, f"subscription {s.id} does not exist")
    return Reply(groups=(Group(Tag.SUBSCRIPTION_ATTRIBUTES,
                               (A.integer("notify-lease-duration", renewed.lease),)),))


async def cancel_subscription(req: OpRequest) -> Reply:
    s = await _target_sub(req, req.op_value("notify-subscription-id"))
    await _subs(req).cancel(s.id)
    return Reply()


def _event_group(req: OpRequest, s: Subscription, e: Event) -> Group:
    q = req.ctx.queues.get(e.queue)
    paused = q is not None and q.paused
    attrs = [
        A.integer("notify-subscription-id", s.id),
        A.integer("notify-sequence-number", e.sequence),
        A.keyword("notify-subscribed-event", e.event),
        A.text("notify-text", e.text),
        A.charset("notify-charset", "utf-8"),
        A.language("notify-natural-language", "en"),
        A.integer("printer-up-time", int(e.time.timestamp())),
        A.uri("notify-printer-uri", printer_uri(req.origin, e.queue)),
        A.name_("printer-name", e.queue),
        A.enum("printer-state", PrinterState.STOPPED if paused else PrinterState.IDLE),
        A.keyword("printer-state-reasons", "paused" if paused else "none"),
        A.boolean("printer-is-accepting-jobs", q is None or q.accepting),
    ]
    if e.job_id is not None:
        attrs += [A.integer("notify-job-id", e.job_id),
                  A.enum("job-state", e.job_state or 3),
                  A.keyword("job-state-reasons", *(e.job_reasons or ("none",)))]
    if s.user_data is not None:
        attrs.append(Attribute.single("notify-user-data", Tag.OCTET_STRING, s.user_data))
    return Group(Tag.EVENT_NOTIFICATION_ATTRIBUTES, tuple(attrs))


async def get_notifications(req: OpRequest) -> Reply:
    ids_a = req.op("notify-subscription-ids")
    if ids_a is None:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing notify-subscription-ids")
    seqs_a = req.op("notify-sequence-numbers")
    seqs = [v for v in seqs_a.plain if isinstance(v, int)] if seqs_a is not None else []
    targets = [await _target_sub(req, sid) for sid in ids_a.plain]
    # What any node did until now is in the answer (RFC 3996 §5.2: the events since the
    # client's last ask), not only what this node's feed has looked at so far.
    await _feed(req).catch_up()
    groups: list[Group] = []
    for i, s in enumerate(targets):
        first = seqs[i] if i < len(seqs) else 1
        groups += [_event_group(req, s, e) for e in await _subs(req).events(s.id, first)]
    return Reply(groups=tuple(groups),
                 operation=(A.integer("notify-get-interval", GET_INTERVAL),))


OPERATIONS: dict[int, OpSpec] = {
    Operation.CREATE_PRINTER_SUBSCRIPTIONS: OpSpec("Create-Printer-Subscriptions",
                                                   create_printer_subscriptions),
    Operation.GET_SUBSCRIPTION_ATTRIBUTES: OpSpec("Get-Subscription-Attributes",
                                                  get_subscription_attributes),
    Operation.GET_SUBSCRIPTIONS: OpSpec("Get-Subscriptions", get_subscriptions),
    Operation.RENEW_SUBSCRIPTION: OpSpec("Renew-Subscription", renew_subscription),
    Operation.CANCEL_SUBSCRIPTION: OpSpec("Cancel-Subscription", cancel_subscription),
    Operation.GET_NOTIFICATIONS: OpSpec("Get-Notifications", get_notifications),
}
