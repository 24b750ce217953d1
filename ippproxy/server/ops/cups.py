"""CUPS operations the CUPS tools send to ``/``: CUPS-Get-Default, CUPS-Get-Printers and
CUPS-Get-Classes (CUPS Implementation of IPP, §3.2, §3.3 and §3.4).

Their answers carry one printer URI per queue, as cupsd's do (``cupsnames.one_uri``: libcups
would post its jobs to our two ``printer-uri-supported`` values joined by a comma).
"""

from __future__ import annotations

from ippproxy.ipp import Group, Operation, Tag
from ippproxy.server import attrs as A
from ippproxy.server.context import OpRequest
from ippproxy.server.cupsnames import one_uri
from ippproxy.server.operation import OpSpec
from ippproxy.server.ops.common import printer_attributes
from ippproxy.server.ops.printer import select_printer_attributes
from ippproxy.server.response import Reply


async def _printer_group(req: OpRequest, queue: str) -> Group:
    q = req.ctx.queues[queue]
    attrs = one_uri(await printer_attributes(req, q), req.origin.ipp)
    wanted = A.requested_names(req.op("requested-attributes"))
    return Group(Tag.PRINTER_ATTRIBUTES, tuple(select_printer_attributes(attrs, wanted)))


async def cups_get_default(req: OpRequest) -> Reply:
    return Reply(groups=(await _printer_group(req, req.ctx.default_queue),))


async def cups_get_printers(req: OpRequest) -> Reply:
    limit = req.op_value("limit")
    first = req.op_value("first-printer-name")
    names = sorted(req.ctx.queues)
    if isinstance(first, str):
        names = [n for n in names if n >= first]
    if isinstance(limit, int) and limit > 0:
        names = names[:limit]
    groups = tuple([await _printer_group(req, n) for n in names])
    return Reply(groups=groups)


async def cups_get_classes(req: OpRequest) -> Reply:
    """We have no printer classes (each queue has one destination): an empty list, as
    cupsd answers when none is defined, so that ``lpstat -t`` and ``lpstat -c`` go on."""
    return Reply()


OPERATIONS: dict[int, OpSpec] = {
    Operation.CUPS_GET_DEFAULT: OpSpec("CUPS-Get-Default", cups_get_default, target="server"),
    Operation.CUPS_GET_PRINTERS: OpSpec("CUPS-Get-Printers", cups_get_printers,
                                        target="server"),
    Operation.CUPS_GET_CLASSES: OpSpec("CUPS-Get-Classes", cups_get_classes, target="server"),
}
