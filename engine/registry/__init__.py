"""The model registry: versions, integrity hashes, lineage, deployments and rollbacks.

Every trained model file becomes a **version** (:func:`register_version`, or
:func:`train_version` to train and register in one step) with the SHA-256 and size of its
file; nothing loads or deploys a version without :func:`verify_file` first.

Modules: :mod:`~engine.registry.tables` (the three tables), :mod:`~engine.registry.versions`
(registration, integrity, querying), :mod:`~engine.registry.search` (filters over
parameters and metrics, many-version comparison, CSV),
:mod:`~engine.registry.deployments` (deploy, rollback, the deployment snapshot),
:mod:`~engine.registry.views` (compare, lineage) and
:mod:`~engine.registry.models` (train-and-register, load and evaluate a version through
``engine.neural``). The registry depends on ``engine.neural``, never on ``engine.retrain``.
This file only re-exports their public names.
"""

from engine.registry.deployments import (
    ENVIRONMENTS,
    DeploymentInfo,
    current_deployment,
    default_snapshot,
    deploy,
    deployments,
    rollback,
    set_snapshot_window,
)
from engine.registry.models import (
    evaluate_version,
    load_version,
    train_version,
    version_config,
    version_equity,
    window_evaluation,
    window_snapshot,
)
from engine.registry.search import (
    FILTER_HELP,
    compare_versions,
    comparison_csv,
    search_versions,
)
from engine.registry.versions import (
    SORT_KEYS,
    ModelVersionInfo,
    add_lineage,
    archive,
    file_sha256,
    finite_number,
    flatten_metrics,
    get_version,
    list_versions,
    metric_return_pct,
    register_version,
    update_version,
    verify_file,
)
from engine.registry.views import compare, equity_curve, lineage

__all__ = [
    "ENVIRONMENTS",
    "FILTER_HELP",
    "SORT_KEYS",
    "DeploymentInfo",
    "ModelVersionInfo",
    "add_lineage",
    "archive",
    "compare",
    "compare_versions",
    "comparison_csv",
    "current_deployment",
    "default_snapshot",
    "deploy",
    "deployments",
    "equity_curve",
    "evaluate_version",
    "file_sha256",
    "finite_number",
    "flatten_metrics",
    "get_version",
    "lineage",
    "list_versions",
    "load_version",
    "metric_return_pct",
    "register_version",
    "rollback",
    "search_versions",
    "set_snapshot_window",
    "train_version",
    "update_version",
    "verify_file",
    "version_config",
    "version_equity",
    "window_evaluation",
    "window_snapshot",
]
