"""The registry package's public surface and the one-way dependency on engine.neural."""

from __future__ import annotations

import ast
from pathlib import Path

import engine

ENGINE = Path(engine.__file__).resolve().parent


def test_registry_public_surface_is_pinned():
    import engine.registry as registry

    assert sorted(registry.__all__) == sorted([
        "ENVIRONMENTS", "FILTER_HELP", "SORT_KEYS", "DeploymentInfo", "ModelVersionInfo",
        "add_lineage", "archive", "compare", "compare_versions", "comparison_csv",
        "current_deployment", "default_snapshot", "deploy",
        "deployments", "equity_curve", "evaluate_version", "file_sha256", "finite_number",
        "flatten_metrics", "get_version", "lineage", "list_versions", "load_version",
        "metric_return_pct", "register_version", "rollback", "search_versions",
        "set_snapshot_window",
        "train_version", "update_version", "verify_file", "version_config",
        "version_equity", "window_evaluation", "window_snapshot"])
    assert all(hasattr(registry, name) for name in registry.__all__)


def _imported_modules(folder: Path) -> set[str]:
    """Every module named by an import statement (module- or function-level) under folder."""
    out: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                out.add(node.module)
                out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def test_the_registry_never_imports_the_retrainer_and_neural_never_the_registry():
    assert not {m for m in _imported_modules(ENGINE / "registry")
                if m == "engine.retrain" or m.startswith("engine.retrain.")}
    assert not {m for m in _imported_modules(ENGINE / "neural")
                if m == "engine.registry" or m.startswith("engine.registry.")
                or m == "engine.retrain" or m.startswith("engine.retrain.")}
    # `from engine import registry` would name it as engine.registry too
    assert "engine.registry" not in _imported_modules(ENGINE / "neural")
