"""House rules a glance at the import graph can check (read with ast, nothing imported).

- ``engine/`` has no import cycle, counting imports inside functions too (a lazy import
  hides a cycle from Python, not from a maintainer);
- no module imports another module's private (``_x``) name;
- ``engine/`` never imports streamlit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in ENGINE.rglob("*.py")}


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(target module, imported names, line) for every import in *path*."""
    out = []
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((target, [a.name for a in node.names], node.lineno))
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for target, names, _ in _imports(m, p):
            for t in [target] + [f"{target}.{n}" for n in names]:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != m and not m.startswith(t + "."):
                    edges[m].add(t)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    comps: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    comps.append(sorted(comp))
    return comps


def test_cycle_finder_finds_a_planted_cycle():
    # a -> b -> c -> a is one component; d hangs off it and is not part of it.
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_engine_import_graph_has_no_cycle():
    assert _cycles(_graph()) == []


def _python_files() -> list[Path]:
    files = list(ENGINE.rglob("*.py")) + list((ROOT / "app_pages").glob("*.py"))
    files += list((ROOT / "ui").glob("*.py")) + [ROOT / "app.py"]
    return files


def test_no_module_imports_a_private_name_of_another():
    offenders = []
    for path in _python_files():
        name = _module_name(path)
        for target, names, line in _imports(name, path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            private_mod = [p for p in target.split(".")
                           if p.startswith("_") and not p.startswith("__")]
            if private or private_mod:
                offenders.append(f"{path.relative_to(ROOT)}:{line} from {target} {private}")
    assert offenders == []


@pytest.mark.parametrize("path", sorted(ENGINE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_never_imports_streamlit(path):
    targets = [t for t, _, _ in _imports(_module_name(path), path)]
    assert not [t for t in targets if t == "streamlit" or t.startswith("streamlit.")]
