"""Each package owns its tables: no module outside ``ippproxy/jobs/``,
``ippproxy/accounting/``, ``ippproxy/catalog/`` or ``ippproxy/services/`` (admin
authentication) names their table objects or imports their models; the others go through
``JobStore``, ``AccountingService``, ``Catalog`` and the services' methods
(docs/architecture.md).

The table objects are found by loading the models modules (every module-level
``sqlalchemy.Table``), so a table added later is covered without editing this test.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from sqlalchemy import Table

ROOT = Path(__file__).resolve().parents[1]
OWNERS = {"ippproxy.jobs": "ippproxy.jobs.models",
          "ippproxy.accounting": "ippproxy.accounting.models",
          "ippproxy.services": "ippproxy.services.authmodels",
          "ippproxy.catalog": "ippproxy.catalog.models"}


def tables(models: str) -> set[str]:
    module = importlib.import_module(models)
    return {name for name, value in vars(module).items() if isinstance(value, Table)}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> list[Path]:
    return sorted(p for d in ("ippproxy", "testprinters") for p in (ROOT / d).rglob("*.py"))


def violations(owner: str, models: str, path: Path, tree: ast.AST) -> list[str]:
    names = tables(models)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names
                      if a.name == models or a.name.startswith(models + ".")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == models:
                found.append(f"imports from {models}")
            elif node.module.startswith(owner):
                found += [f"imports {a.name} from {node.module}" for a in node.names
                          if a.name in names or a.name == "models"]
        elif isinstance(node, ast.Name) and node.id in names and node.id.endswith("_t"):
            # The jobs tables' names are distinctive: naming one at all is reading it.
            found.append(f"names {node.id} (line {node.lineno})")
    return found


@pytest.mark.parametrize("owner", sorted(OWNERS))
def test_no_module_outside_a_package_reaches_its_tables(owner: str) -> None:
    models = OWNERS[owner]
    assert tables(models), f"{models} defines no tables: the test would prove nothing"
    bad = []
    for path in sources():
        name = module_name(path)
        if name == owner or name.startswith(owner + "."):
            continue
        tree = ast.parse(path.read_text(), str(path))
        bad += [f"{name}: {v}" for v in violations(owner, models, path, tree)]
    assert not bad, "\n".join(bad)


def test_the_check_finds_a_module_that_reads_another_packages_table() -> None:
    """The scan itself bites: a module like pipeline/recent.py before issue 12 is caught."""
    intruder = ast.parse("from ippproxy.jobs.models import documents_t, jobs_t\n"
                         "from ippproxy.accounting.models import CHARGES\n"
                         "def seen(conn):\n    return conn.execute(jobs_t.select())\n")
    path = ROOT / "ippproxy" / "pipeline" / "recent.py"
    assert violations("ippproxy.jobs", OWNERS["ippproxy.jobs"], path, intruder)
    assert violations("ippproxy.accounting", OWNERS["ippproxy.accounting"], path, intruder)
    reader = ast.parse("from ippproxy.catalog import models\n"
                       "rows = conn.execute(catalog_queues_t.select())\n")
    assert violations("ippproxy.catalog", OWNERS["ippproxy.catalog"], path, reader)
