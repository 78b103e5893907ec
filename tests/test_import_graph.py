"""Dependencies between Homeward's apps run one way, and no modules import each other in a cycle
(docs/architecture.md, "One-way dependencies").

The graph is built from the source with `ast`, so it sees imports inside functions too. Tests,
migrations, benchmarks and scripts are left out: they may reach anywhere.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. An app may import the apps before it in this list, never those after it.
# `core` is plain plumbing (no models); `config` is the composition root (settings, URLs).
LAYERS = [
    "core",
    "schools",
    "audit",
    "sso",
    "mis",
    "visits",
    "contacts",
    "riskassess",
    "tracking",
    "records",
    "transfers",
    "insights",
    "config",
]
SKIPPED = {"tests", "bench", "scripts", "migrations", ".venv", "node_modules", "var", "static"}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if SKIPPED & set(parts):
                continue
            name = ".".join(parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]):
    """(imported project module, line) for every import in the module, resolved to a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target, node.lineno


def import_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    modules = project_modules()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    where: dict[tuple[str, str], str] = {}
    for name, path in modules.items():
        for target, line in imports_of(name, path, modules):
            edges[name].add(target)
            where.setdefault((name, target), f"{path.relative_to(ROOT)}:{line}")
    return edges, where


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_app_is_placed_in_the_layers():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(LAYERS), f"place these apps in LAYERS: {sorted(apps - set(LAYERS))}"


def test_no_app_imports_an_app_above_it():
    edges, where = import_graph()
    rank = {app: position for position, app in enumerate(LAYERS)}
    upward = [
        f"{where[(source, target)]}: {source} imports {target}"
        for source, targets in edges.items()
        for target in targets
        if rank[target.split(".")[0]] > rank[source.split(".")[0]]
    ]
    assert not upward, "imports running upwards:\n" + "\n".join(sorted(upward))


def test_no_modules_import_each_other_in_a_cycle():
    edges, where = import_graph()
    found = cycles(edges)
    described = [
        " -> ".join(group)
        + " ("
        + ", ".join(where[(a, b)] for a in group for b in group if (a, b) in where)
        + ")"
        for group in found
    ]
    assert not found, "import cycles:\n" + "\n".join(described)


def test_the_checker_sees_an_upward_import_and_a_cycle():
    """The checks above can fail: a made-up graph with both faults is caught."""
    edges = {"visits.services": {"tracking.services"}, "tracking.services": {"visits.services"}}
    assert cycles(edges) == [["tracking.services", "visits.services"]]
    rank = {app: position for position, app in enumerate(LAYERS)}
    assert rank["tracking"] > rank["visits"]
