"""The shape of the code, checked on its syntax tree (not its text, so comments and strings never count).

1. Views and API routes are adapters: they call their app's ``queries`` (reads) and ``services``
   (writes) and never reach the ORM, the audit trail or the clock themselves.
2. Apps depend on each other one way only, and the layers below them (platform, core, knowledge,
   the access policy) on no app. The nodes and what each may import:

   - apps: accounts, clinics, people, clinical, outcomes, scheduling, billing, audit, demo, web — no cycle between them;
   - ``mend.access`` is the *policy*: predicates and ``object_or_404`` over the platform. It sits
     below every app (they all import it) and so imports none; loaders belong to their apps;
   - the *shell* — ``web``, ``mend.api``, ``mend.urls`` — wires pages and routes together and may
     import any app; only the shell and ``demo`` may import the shell;
   - ``mend.platform``, ``mend.core``, ``mend.knowledge`` and ``mend.writes`` import no app.

   Imports inside functions count (a cycle hidden in a function is still a cycle); imports under
   ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MEND = SRC / "mend"

APPS = (
    "accounts",
    "clinics",
    "people",
    "clinical",
    "outcomes",
    "scheduling",
    "billing",
    "outbox",
    "audit",
    "demo",
    "web",
)
POLICY = "access"
SHELL = ("web", "api", "urls")
NODES = (*APPS, POLICY, "api", "urls")
MAY_IMPORT_SHELL = (*SHELL, "demo")
BELOW_APPS = ("platform", "core", "knowledge", "writes")

QUERY_METHODS = {"filter", "exclude", "select_related", "prefetch_related", "prefetch_related_objects"}


def _sources() -> Iterator[Path]:
    for path in sorted(MEND.rglob("*.py")):
        parts = path.relative_to(MEND).parts
        if "migrations" in parts or "tests" in parts:
            continue
        yield path


def _name(path: Path) -> str:
    return str(path.relative_to(SRC.parent))


# --- 1. Views and API routes are adapters --------------------------------------------------


def _is_interface(path: Path) -> bool:
    parts = path.relative_to(MEND).parts
    return path.name in ("views.py", "api.py") or (len(parts) > 1 and parts[-2] in ("views", "api"))


def _called(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _adapter_violations(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    where = _name(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "objects":
            yield f"{where}:{node.lineno}: .objects — load through the app's queries"
        if not isinstance(node, ast.Call):
            continue
        called = _called(node.func)
        if called in QUERY_METHODS and (isinstance(node.func, ast.Attribute) or called == "prefetch_related_objects"):
            yield f"{where}:{node.lineno}: {called}() — querysets are built in queries.py"
        elif called == "audit_record":
            yield f"{where}:{node.lineno}: audit_record() — the query or service audits its own read or write"
        elif called == "localdate":
            yield f"{where}:{node.lineno}: localdate() — use actor.today(), the clinic's date"
        elif (
            called == "date"
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Call)
            and _called(node.func.value.func) == "now"
        ):
            yield f"{where}:{node.lineno}: now().date() — use actor.today(), the clinic's date"


def test_views_and_api_routes_only_call_queries_and_services():
    """No ORM, audit or clock call in any view or API route module: those live in queries and services."""
    interfaces = [path for path in _sources() if _is_interface(path)]
    assert len(interfaces) > 10, interfaces  # the walk found the modules it is meant to check
    violations = sorted(
        (line for path in interfaces for line in _adapter_violations(path)),
        key=lambda line: (line.split(":")[0], int(line.split(":")[1])),
    )
    assert not violations, "Views and API routes reach past queries and services:\n" + "\n".join(violations)


# --- 2. Apps depend on each other one way only ----------------------------------------------


def _node(module: str) -> str | None:
    """The graph node of a dotted module name: ``mend.people.queries`` → ``people``."""
    parts = module.split(".")
    if parts[0] != "mend" or len(parts) < 2:
        return None
    return parts[1]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, package: str) -> Iterator[tuple[str, int]]:
    """Every module imported at run time, anywhere in the tree, with its line."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _imports(child, package)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from mend import access`` imports mend.access; ``from mend.people import queries``
            # imports mend.people (and its submodule): both land on the right node.
            if base == "mend":
                for alias in node.names:
                    yield f"mend.{alias.name}", node.lineno
            else:
                yield base, node.lineno
        yield from _imports(node, package)


def _graph() -> dict[tuple[str, str], list[str]]:
    """Edges between nodes, each with every place (file:line) it is made."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in _sources():
        module = ".".join(path.relative_to(SRC).with_suffix("").parts)
        source = _node(module)
        if source is None:
            continue
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(), filename=str(path))
        for imported, line in _imports(tree, package):
            target = _node(imported)
            if target is not None and target != source:
                edges[(source, target)].append(f"{_name(path)}:{line}")
    return dict(edges)


def _cycles(edges: dict[tuple[str, str], list[str]]) -> list[tuple[list[str], list[str]]]:
    """Each group of nodes that reach one another (Tarjan's components), with one cycle through it."""
    after: dict[str, list[str]] = defaultdict(list)
    for source, target in sorted(edges):
        if source in NODES and target in NODES:
            after[source].append(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in after[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in NODES:
        if node not in index:
            visit(node)

    def path_back(start: str, members: set[str]) -> list[str]:
        """The shortest way from ``start`` back to itself inside one component."""
        routes = {start: [start]}
        frontier = [start]
        while frontier:
            following = []
            for node in frontier:
                for target in after[node]:
                    if target == start:
                        return [*routes[node], start]
                    if target in members and target not in routes:
                        routes[target] = [*routes[node], target]
                        following.append(target)
            frontier = following
        raise AssertionError(f"{start} is in a component but on no cycle")

    return [(component, path_back(component[0], set(component))) for component in components]


def test_apps_depend_on_each_other_one_way():
    """No cycle between apps; nothing but the shell and demo imports the shell; lower layers import no app."""
    edges = _graph()
    assert ("web", "people") in edges  # the walk sees imports at all
    problems = []

    def where(edge: tuple[str, str]) -> str:
        places = edges[edge]
        return places[0] + (f" and {len(places) - 1} more" if len(places) > 1 else "")

    for members, cycle in _cycles(edges):
        inside = [f"    {a} → {b}  ({where((a, b))})" for a, b in sorted(edges) if {a, b} <= set(members)]
        problems.append(
            f"cycle {' → '.join(cycle)}; {', '.join(members)} all reach one another through:\n" + "\n".join(inside)
        )
    for source, target in sorted(edges):
        if target in SHELL and source not in MAY_IMPORT_SHELL:
            problems.append(f"{source} imports the shell's mend.{target}  ({', '.join(edges[(source, target)])})")
        if source in (*BELOW_APPS, POLICY) and target in NODES:
            problems.append(f"mend.{source} imports mend.{target}, above it  ({', '.join(edges[(source, target)])})")
    assert not problems, "Dependencies that point the wrong way:\n" + "\n".join(problems)
