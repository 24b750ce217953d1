"""From a decoded request to a response: validation, target, authorisation, handler.

Theory of operation. ``handle()`` is the only entry point; it never raises:
1. ``check_request`` (RFC 8011 §4.1.x: version, request-id, charset/natural-language first,
   duplicates, wrong groups or value tags) fails with its own status;
2. the operation-id is looked up in ``OPERATIONS`` (one table, filled by the modules under
   ``server/ops/``): unknown → server-error-operation-not-supported (RFC 8011 §4.1.8);
3. the target comes from ``job-uri`` or ``printer-uri`` (plus ``job-id``), falling back to the
   HTTP path only for the server-level CUPS operations: a missing printer-uri or job-id is
   client-error-bad-request, an unknown queue client-error-not-found (RFC 8011 §4.1.5);
   cupsd's names (``ipp://host/``, ``/jobs/ID``) are mapped onto our queues (cupsnames.py),
   and a queue reached that way that wants credentials asks for them;
4. the user: the proven identity (authn.py), else ``requesting-user-name`` as claimed; a
   claimed name with control characters or surrounding spaces is client-error-bad-request
   (refused, never stripped: ``"r\\0oot"`` must not become ``root``). Admin operations need a
   proven admin (identity.py): nobody proven is client-error-not-authenticated (answered
   with HTTP 401 by authn.answer), a proven non-admin client-error-forbidden (RFC 8011
   §13.1.4.2/§13.1.4.3), whatever the name claimed;
5. the handler runs; ``IppError`` becomes its status; anything else is logged with the
   traceback and answered server-error-internal-error with a generic message.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from ippproxy.ipp import Message, Status, Tag, make_response
from ippproxy.ipp.validate import RequestError, check_request
from ippproxy.pipeline.submission import no_document
from ippproxy.server import cupsnames
from ippproxy.server.context import OpRequest, ServerContext
from ippproxy.server.errors import ClientGone, IppError
from ippproxy.server.identity import NOBODY, Identity
from ippproxy.server.operation import OpSpec
from ippproxy.server.ops import cups, documents, jobs, printer, submit, subscribe
from ippproxy.server.response import unsupported_group
from ippproxy.server.sanitize import MAX_NAME, clean_name
from ippproxy.server.uris import Origin, Target, parse_uri

log = logging.getLogger(__name__)

OPERATIONS: dict[int, OpSpec] = {
    **submit.OPERATIONS, **jobs.OPERATIONS, **printer.OPERATIONS, **cups.OPERATIONS,
    **subscribe.OPERATIONS, **documents.OPERATIONS,
}


# operations-supported: exactly the table (RFC 8011 §5.4.15); handed to the operations
# with each request (OpRequest.operations), which therefore need not import this module.
SUPPORTED_OPERATIONS = tuple(sorted(OPERATIONS))


def _user(msg: Message) -> str:
    """The claimed requesting-user-name (RFC 8011 §5.4.2), refused rather than cleaned."""
    a = msg.get(Tag.OPERATION_ATTRIBUTES, "requesting-user-name")
    if a is None or not isinstance(a.value, str):
        return "anonymous"
    name = a.value
    if not name:
        return "anonymous"
    if (clean_name(name) != name or len(name.encode()) > MAX_NAME
            or not name.isprintable()):
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST,
                       "requesting-user-name must be a printable name without control "
                       "characters or surrounding spaces")
    return name


def _target(ctx: ServerContext, msg: Message, path_target: Target | None,
            spec: OpSpec) -> Target:
    default = ctx.default_queue
    job_uri = msg.get(Tag.OPERATION_ATTRIBUTES, "job-uri")
    printer_uri = msg.get(Tag.OPERATION_ATTRIBUTES, "printer-uri")
    if job_uri is not None and isinstance(job_uri.value, str):
        t = parse_uri(job_uri.value, default)
        if t is None or t.job_id is None:
            raise IppError(Status.CLIENT_ERROR_NOT_FOUND, "job-uri names no job here")
        return t
    if printer_uri is not None and isinstance(printer_uri.value, str):
        t = parse_uri(printer_uri.value, default)
        if t is None:
            raise IppError(Status.CLIENT_ERROR_NOT_FOUND, "printer-uri names no queue here")
        if t.job_id is not None and spec.target != "job":
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "printer-uri is a job URI")
    elif spec.target == "server":
        t = path_target or Target(None)
    else:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST,
                       "missing printer-uri operation attribute")
    if spec.target == "job" and t.job_id is None:
        job_id = msg.get(Tag.OPERATION_ATTRIBUTES, "job-id")
        if job_id is None or job_id.tag != Tag.INTEGER or not isinstance(job_id.value, int):
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing job-id operation attribute")
        t = Target(t.queue, job_id.value, root=t.root)
    return t


async def handle(ctx: ServerContext, msg: Message, origin: Origin,
                 path_target: Target | None = None,
                 body: AsyncIterator[bytes] | None = None, *,
                 user: Identity = NOBODY) -> Message:
    """Answer one request; never raises. ``user``: who authn.py proved (a proven name
    replaces requesting-user-name)."""
    language = "en"
    try:
        try:
            check_request(msg)
        except RequestError as e:
            raise IppError(e.status, e.message) from None
        lang = msg.get(Tag.OPERATION_ATTRIBUTES, "attributes-natural-language")
        if lang is not None and isinstance(lang.value, str):
            language = lang.value
        spec = OPERATIONS.get(msg.code)
        if spec is None:
            raise IppError(Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED,
                           f"operation 0x{msg.code:04x} is not supported")
        claimed = _user(msg)
        target = await cupsnames.resolve(ctx, _target(ctx, msg, path_target, spec), spec,
                                         user.name or claimed)
        queue = None
        if target.queue is not None:
            queue = ctx.queues.get(target.queue)
            if queue is None:
                raise IppError(Status.CLIENT_ERROR_NOT_FOUND,
                               f"no queue named {clean_name(target.queue)!r}")
            if not user.proven and ctx.authenticator is not None and \
                    ctx.authenticator.required(queue.name):
                # authn.py checked the queues the request names; this one may have been
                # reached through a CUPS name (the root, a /jobs/ID job-uri).
                raise IppError(Status.CLIENT_ERROR_NOT_AUTHENTICATED,
                               f"queue {queue.name!r} needs credentials: authenticate")
        elif spec.target != "server" and not (spec.every_queue and target.root):
            raise IppError(Status.CLIENT_ERROR_NOT_FOUND, "printer-uri names no queue")
        if spec.admin and not user.admin:
            if not user.proven:
                raise IppError(Status.CLIENT_ERROR_NOT_AUTHENTICATED,
                               f"{spec.name} is reserved to administrators: authenticate")
            raise IppError(Status.CLIENT_ERROR_FORBIDDEN,
                           f"{spec.name} is reserved to administrators")
        req = OpRequest(ctx=ctx, msg=msg, origin=origin, queue=queue,
                        job_id=target.job_id, user=user.name or claimed,
                        body=body or no_document(), operations=SUPPORTED_OPERATIONS,
                        identity=user)
        if spec.intake:
            ctx.receiving.begin()
            try:
                reply = await spec.handler(req)
            finally:
                ctx.receiving.end()
        else:
            reply = await spec.handler(req)
        groups = reply.groups
        if path_target is not None and path_target.root:
            groups = cupsnames.cupsd_groups(groups, origin.ipp)
        return make_response(msg.version, msg.request_id, reply.status, reply.message,
                             groups, reply.operation, language)
    except IppError as e:
        groups = (unsupported_group(e.unsupported),) if e.unsupported else ()
        return make_response(msg.version, msg.request_id, e.status, e.message, groups,
                             language=language)
    except ClientGone:
        raise
    except Exception:
        log.exception("internal error answering operation 0x%04x", msg.code)
        return make_response(msg.version, msg.request_id,
                             Status.SERVER_ERROR_INTERNAL_ERROR,
                             "internal error; the server log has details", language=language)
