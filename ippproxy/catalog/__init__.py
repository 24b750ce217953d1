"""ippproxy.catalog: the configuration objects kept in the database and changed live.

Queues, cost models, rules and options ("config keys") live in the catalog's tables
(models.py, migration 0006_catalog); ``Catalog`` (store.py) reads them as a frozen
``Snapshot`` of the config types the rest of the server reads (``QueueConfig``,
``CostModelConfig``, ``RuleConfig``) and changes them one transaction at a time, bumping
the version and writing the audit entry in it. ``CatalogWatcher`` (watcher.py) polls the
version on every node and publishes the new snapshot. Nothing here checks rights: that is
``ippproxy.services``, the only writer. It sits in the jobs layer so that the server, the
pipeline and the forwarder may read it; it imports db, config and nothing above.
"""

from ippproxy.catalog.audit import AuditEntry, AuditQuery
from ippproxy.catalog.snapshot import Kind, Snapshot
from ippproxy.catalog.store import Catalog, Duplicate, Tx
from ippproxy.catalog.watcher import CatalogWatcher

__all__ = ["AuditEntry", "AuditQuery", "Catalog", "CatalogWatcher", "Duplicate", "Kind",
           "Snapshot", "Tx"]
