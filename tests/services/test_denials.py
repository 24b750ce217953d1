"""Denied jobs are counted where every node sees them (services/denials.py): two nodes'
denials on one database, each node's dashboard figure counts both; the audit log lists
them with the rule's reason; the live activity of the node that denied shows it."""

from __future__ import annotations

import datetime as dt

from ippproxy.catalog import AuditQuery, Catalog
from ippproxy.jobs.store import JobStore
from ippproxy.services.auditsink import CatalogAudit
from ippproxy.services.denials import ACTION, Denials
from ippproxy.services.events import EventHub, EventKind
from ippproxy.services.reports import Reports

from .conftest import ADMIN


async def test_every_node_counts_every_nodes_denials(catalog: Catalog, store: JobStore) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    hubs = EventHub("n1"), EventHub("n2")
    nodes = [Denials(hub, CatalogAudit(catalog), catalog.audit_count) for hub in hubs]
    nodes[0].job_denied("office", "mallory", "rule 'no-colour' denies colour")
    nodes[1].job_denied("lab", "eve", "rule 'pages' denies over 100 pages")
    nodes[1].job_denied("lab", "eve", "rule 'pages' denies over 100 pages")
    for n in nodes:
        await n.drain()
    assert [await n.since(start) for n in nodes] == [3, 3]
    assert await nodes[0].since(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) == 0
    for n in nodes:
        summary = await Reports(store.reports, n.since).summary(ADMIN)
        assert summary.denied == 3
    [first] = catalog.audit_log(AuditQuery(action=ACTION, actor="mallory"))
    assert (first.kind, first.name) == ("queue", "office")
    assert first.after == {"reason": "rule 'no-colour' denies colour"}
    assert [e.kind for e in hubs[0].recent] == [EventKind.JOB_DENIED]
    assert len(hubs[1].recent) == 2
