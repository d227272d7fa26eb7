"""One factory per backend returns the whole typed bundle; bootstrap never dispatches on type."""

from __future__ import annotations

import ast
from pathlib import Path

from shared_context.services.container import Services
from shared_context.storage.backends import backend_for

BOOTSTRAP = Path(__file__).resolve().parents[2] / "src" / "shared_context" / "bootstrap.py"


async def test_the_bundle_serves_the_running_services(services: Services) -> None:
    backend = backend_for(services.store)
    assert backend.store is services.store
    dialect = services.store.dialect
    for part in (backend.search, backend.memory, backend.audit_log, backend.coordination):
        assert type(part).__module__.startswith(f"shared_context.storage.{dialect}."), part
    assert (backend.listen_connect is not None) == (dialect == "postgres")


def test_bootstrap_does_not_dispatch_on_store_types() -> None:
    tree = ast.parse(BOOTSTRAP.read_text())
    calls = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance"
    ]
    assert not calls, f"bootstrap.py dispatches with isinstance at lines {calls}"
