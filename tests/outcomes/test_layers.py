"""The outcomes app's layers: views and API routes adapt HTTP only; reads and writes, with their
queries, audit and the clinic's "today", live in queries, evidence and services; the clinical app
does not import the outcomes app."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import mend

SRC = Path(mend.__file__).parent
ADAPTERS = ["outcomes/views.py", "outcomes/api.py"]
FORBIDDEN_IN_ADAPTERS = {
    ".objects": "an ORM query",
    ".filter(": "an ORM query",
    "select_related": "loading related rows",
    "prefetch_related": "loading related rows",
    "audit_record(": "auditing",
    "localdate(": "the server's date instead of the clinic's",
    "now().date()": "the server's date instead of the clinic's",
    "# type: ignore": "a cast of request.actor",
}


@pytest.mark.parametrize("module", ADAPTERS)
def test_views_and_api_routes_are_adapters_only(module):
    text = (SRC / module).read_text()
    found = [f"{needle!r} ({why})" for needle, why in FORBIDDEN_IN_ADAPTERS.items() if needle in text]
    assert not found, f"{module} does what queries and services do: {', '.join(found)}"


@pytest.mark.parametrize("module", ["outcomes/queries.py", "outcomes/services.py", "outcomes/evidence.py"])
def test_every_today_in_outcomes_is_the_clinics(module):
    text = (SRC / module).read_text()
    assert not re.search(r"localdate\(|date\.today\(|now\(\)\.date\(\)", text), module


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_clinical_app_does_not_import_the_outcomes_app():
    """Outcomes reads the clinical record, so clinical must not import outcomes: what both need sits
    below them (mend.knowledge.outcome_measures, mend.core.measure_schedule), and the chart gets its
    outcomes card from a section mend.outcomes.apps registers (clinical.queries.add_chart_section)."""
    importing = {
        str(path.relative_to(SRC))
        for path in (SRC / "clinical").rglob("*.py")
        if "tests" not in path.parts and any(name.startswith("mend.outcomes") for name in _imports(path))
    }
    assert importing == set()
