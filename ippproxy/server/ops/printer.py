"""Printer operations: Get-Printer-Attributes (RFC 8011 §4.2.5), Get-Printer-Supported-Values
and Set-Printer-Attributes (RFC 3380), Pause-/Resume-Printer (RFC 8011 §4.3.7-8),
Enable-/Disable-Printer and Pause-Printer-After-Current-Job (RFC 3998), Identify-Printer
(PWG 5100.13 §4.1)."""

from __future__ import annotations

from ippproxy.ipp import Attribute, Group, Operation, Status, Tag
from ippproxy.server import attrs as A
from ippproxy.server.context import OpRequest, QueueRuntime
from ippproxy.server.errors import IppError
from ippproxy.server.operation import OpSpec
from ippproxy.server.ops.common import printer_attributes
from ippproxy.server.printer_attrs import AUTO_FORMAT, is_job_template
from ippproxy.server.response import Reply
from ippproxy.server.sanitize import clean_text


def _queue(req: OpRequest) -> QueueRuntime:
    assert req.queue is not None  # guaranteed by the dispatcher for target="printer"
    return req.queue


def select_printer_attributes(attrs: list[Attribute], wanted: set[str] | None
                              ) -> list[Attribute]:
    """requested-attributes with the all / printer-description / job-template groups;
    media-col-database only when asked for by name (RFC 8011 §4.2.5.1, PWG 5100.7)."""
    if wanted is None:
        wanted = {"all"}
    out = []
    for a in attrs:
        if a.name == "media-col-database":
            if "media-col-database" in wanted:
                out.append(a)
            continue
        if ("all" in wanted or a.name in wanted
                or ("job-template" in wanted and is_job_template(a.name))
                or ("printer-description" in wanted and not is_job_template(a.name))):
            out.append(a)
    return out


async def get_printer_attributes(req: OpRequest) -> Reply:
    fmt = req.op("document-format")
    attrs = await printer_attributes(req)
    if fmt is not None and isinstance(fmt.value, str):
        supported = next(a for a in attrs if a.name == "document-format-supported").plain
        if fmt.value not in supported:
            raise IppError(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                           f"document-format {fmt.value[:64]!r} is not supported",
                           (fmt,))
        if fmt.value != AUTO_FORMAT:
            attrs = [A.mime("document-format-default", fmt.value) if a.name ==
                     "document-format-default" else a for a in attrs]
    wanted = A.requested_names(req.op("requested-attributes"))
    selected = select_printer_attributes(attrs, wanted)
    return Reply(groups=(Group(Tag.PRINTER_ATTRIBUTES, tuple(selected)),))


async def get_printer_supported_values(req: OpRequest) -> Reply:
    attrs = await printer_attributes(req)
    wanted = A.requested_names(req.op("requested-attributes"))
    values = [a for a in attrs if a.name.endswith("-supported")
              and (wanted is None or "all" in wanted or a.name in wanted)]
    return Reply(groups=(Group(Tag.PRINTER_ATTRIBUTES, tuple(values)),))


async def set_printer_attributes(req: OpRequest) -> Reply:
    # printer-settable-attributes-supported is "none" (RFC 3380 §4.1): nothing is settable.
    group = req.msg.group(Tag.PRINTER_ATTRIBUTES)
    if group is None or not group.attributes:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "no printer attributes to set")
    echo = tuple(Attribute.single(a.name, Tag.NOT_SETTABLE, None) for a in group.attributes)
    raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_NOT_SETTABLE,
                   "no printer attribute is settable", echo)


async def pause_printer(req: OpRequest) -> Reply:
    # Kept in the store: every node stops forwarding the queue, and a restart keeps it.
    if await _set_state(req, paused=True, message="paused"):
        await _notify(req, "printer-stopped")
    return Reply()


async def pause_printer_after_current_job(req: OpRequest) -> Reply:
    """RFC 3998: stop after the job being processed. A paused queue's jobs are no longer
    claimed (jobs/store.py), and the one already claimed goes on to the end at its printer,
    so this is Pause-Printer as we do it; the queue reports ``moving-to-paused`` until that
    job ends (printer_attrs.state)."""
    return await pause_printer(req)


async def resume_printer(req: OpRequest) -> Reply:
    if await _set_state(req, paused=False):
        await _notify(req, "printer-state-changed")
    req.ctx.notifier.job_changed("")  # the forwarder claims the queue's jobs now
    return Reply()


async def enable_printer(req: OpRequest) -> Reply:
    if await _set_state(req, accepting=True):
        await _notify(req, "printer-state-changed")
    return Reply()


async def disable_printer(req: OpRequest) -> Reply:
    if await _set_state(req, accepting=False, message="not accepting jobs"):
        await _notify(req, "printer-state-changed")
    return Reply()


async def _set_state(req: OpRequest, *, paused: bool | None = None,
                     accepting: bool | None = None, message: str = "") -> bool:
    """Write the queue's state to the store and take its answer; True when the store's
    state changed. This node's copy may lag a change made on another node (or by the
    command tool) until its catalog watcher sees it, so it does not decide: a pause
    judged "no change" against a stale copy was neither audited nor announced, and the
    other nodes never re-read the queue's state."""
    q = _queue(req)
    state = await req.ctx.store.set_queue_state(q.name, paused=paused, accepting=accepting,
                                                message=message)
    q.restore(state)
    if state.was is None:
        return False
    # Audited as who was proven (authn.py), not as the requesting-user-name they sent.
    await req.ctx.state_recorder.queue_state_changed(req.identity.name or req.user, q.name,
                                                      state.was, (state.paused, state.accepting))
    return True


async def identify_printer(req: OpRequest) -> Reply:
    """Forwarded to the destination; the message is also shown as the queue's
    printer-state-message (our "display")."""
    q = _queue(req)
    attrs = await printer_attributes(req, q)
    supported = next((a.plain for a in attrs if a.name == "identify-actions-supported"), [])
    requested = req.op("identify-actions")
    actions = tuple(str(v) for v in requested.plain) if requested is not None else ("display",)
    bad = [v for v in actions if v not in supported]
    if bad and requested is not None:
        raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                       f"identify-actions {', '.join(bad)[:64]} not supported", (requested,))
    message = req.op_value("message")
    text = clean_text(message, 127) if isinstance(message, str) else ""
    if "display" in actions:
        q.touch(text or "identify")
    await req.ctx.capabilities.identify(q.config, actions, text)
    return Reply()


async def _notify(req: OpRequest, event: str) -> None:
    """A printer event for the queue's subscriptions, in the store every node reads."""
    if req.ctx.subscriptions is not None and req.queue is not None:
        await req.ctx.subscriptions.printer_event(req.queue.name, event)


OPERATIONS: dict[int, OpSpec] = {
    Operation.GET_PRINTER_ATTRIBUTES: OpSpec("Get-Printer-Attributes", get_printer_attributes),
    Operation.GET_PRINTER_SUPPORTED_VALUES: OpSpec("Get-Printer-Supported-Values",
                                                   get_printer_supported_values),
    Operation.SET_PRINTER_ATTRIBUTES: OpSpec("Set-Printer-Attributes", set_printer_attributes,
                                             admin=True),
    Operation.PAUSE_PRINTER: OpSpec("Pause-Printer", pause_printer, admin=True),
    Operation.RESUME_PRINTER: OpSpec("Resume-Printer", resume_printer, admin=True),
    Operation.PAUSE_PRINTER_AFTER_CURRENT_JOB: OpSpec(
        "Pause-Printer-After-Current-Job", pause_printer_after_current_job, admin=True),
    Operation.ENABLE_PRINTER: OpSpec("Enable-Printer", enable_printer, admin=True),
    Operation.DISABLE_PRINTER: OpSpec("Disable-Printer", disable_printer, admin=True),
    Operation.IDENTIFY_PRINTER: OpSpec("Identify-Printer", identify_printer),
}

__all__ = ["OPERATIONS", "Status"]
