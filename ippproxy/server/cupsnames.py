"""cupsd's names for the server and its jobs, as the CUPS tools send them to us directly.

With ``-h host:port`` or a ``client.conf``, ``lpstat``, ``cancel`` and ``lp`` address cupsd's
resources (CUPS Implementation of IPP §2.1): ``ipp://localhost/`` or ``/printers/`` as the
printer-uri of "the server", and ``ipp://localhost/jobs/ID`` as the job-uri of a job whose
queue they do not name (``cancel default-7`` sends only the id: CUPS job-ids are unique on a
cupsd). :func:`resolve` maps them onto our queues:

* the root, for an operation that can address every queue (``OpSpec.every_queue``: Get-Jobs,
  Cancel-Jobs, Cancel-My-Jobs, Purge-Jobs, as cupsd answers them), stays "every queue";
* the root, for any other printer or job operation, is the default queue (the catalog's
  queue marked ``default``, else the first: ``ServerContext.default_queue``), also with a
  ``job-id`` (a cupsd queue whose device URI is ``ipp://us/`` follows its job so);
* ``/jobs/ID``: our job-ids are per queue (RFC 8011 §5.3.2 only asks them unique within a
  printer), so the job is the one current queue that has a job with that id. When several
  have one, and exactly one of those jobs belongs to the asker, it is that one (the others
  are jobs the asker may neither cancel nor see the name of); otherwise the answer is
  client-error-not-found with a status-message naming the queues and the URI that tells
  them apart: we never guess which job a client meant to cancel. No such job anywhere is
  client-error-not-found too.

A request posted to the root resource (as libcups posts Get-Printer-Attributes for
``lp -d``, and CUPS-Get-Printers) treats us as a cupsd, and gets cupsd's answer of one
printer URI per queue (:func:`one_uri`): libcups keeps each printer attribute as a
destination option, several values joined by commas, and posts its jobs to the
``printer-uri-supported`` option, which with our two URIs (``ipp://`` and ``ipps://``) would
be ``/printers/q,ipps://...``. The one kept is of the scheme the request came in on, with its
``uri-security-supported`` and ``uri-authentication-supported`` value (RFC 8011 §5.4.1-5.4.3
keep the three in step). Requests to a queue's own resource (IPP Everywhere clients,
cupsd's ipp backend) get every URI.
"""

from __future__ import annotations

from ippproxy.ipp import Attribute, Group, Status, Tag
from ippproxy.server.context import ServerContext
from ippproxy.server.errors import IppError
from ippproxy.server.operation import OpSpec
from ippproxy.server.sanitize import clean_name
from ippproxy.server.uris import Target

_SHOWN = 5    # queues named in an "ambiguous" status-message at most
_URI_SET = ("printer-uri-supported", "uri-security-supported", "uri-authentication-supported")


async def resolve(ctx: ServerContext, target: Target, spec: OpSpec, user: str) -> Target:
    """The target with cupsd's names mapped onto our queues (see the module docstring);
    ``user``: the asker, proven or claimed."""
    if target.queue is not None:
        return target
    if target.root:
        if spec.target == "server" or spec.every_queue:
            return target
        return Target(ctx.default_queue, target.job_id, root=True)
    if target.job_id is not None:
        return Target(await job_queue(ctx, target.job_id, user), target.job_id)
    return target


async def job_queue(ctx: ServerContext, job_id: int, user: str) -> str:
    """The one queue with a job of this id (or the one of those with ``user``'s job), else
    client-error-not-found."""
    found = await ctx.store.queues_with_job_id(job_id, list(ctx.queues))
    if len(found) == 1:
        return found[0]
    if not found:
        raise IppError(Status.CLIENT_ERROR_NOT_FOUND, f"no job {job_id} on any queue")
    mine = [q for q in found
            if (job := await ctx.store.get(q, job_id)) is not None and job.owner == user]
    if len(mine) == 1:
        return mine[0]
    names = ", ".join(clean_name(q) for q in found[:_SHOWN])
    more = f" and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
    raise IppError(Status.CLIENT_ERROR_NOT_FOUND,
                   f"job-id {job_id} is on several queues ({names}{more}): name the queue "
                   f"(job-uri ipp://HOST/jobs/QUEUE/{job_id}, or printer-uri and job-id)")


def one_uri(attrs: list[Attribute], scheme: str) -> list[Attribute]:
    """``attrs`` with the printer URI of ``scheme`` only (else the first one) and the
    matching security and authentication values."""
    uris = next((a for a in attrs if a.name == "printer-uri-supported"), None)
    if uris is None or len(uris.values) < 2:
        return attrs
    values = [v for v in uris.plain if isinstance(v, str)]
    index = next((i for i, v in enumerate(values) if v.startswith(f"{scheme}://")), 0)
    return [Attribute(a.name, (a.values[index],))
            if a.name in _URI_SET and len(a.values) > index else a for a in attrs]


def cupsd_groups(groups: tuple[Group, ...], scheme: str) -> tuple[Group, ...]:
    """The printer groups of an answer to a request posted to the root, as cupsd's."""
    return tuple(Group(g.tag, tuple(one_uri(list(g.attributes), scheme)))
                 if g.tag == Tag.PRINTER_ATTRIBUTES else g for g in groups)
