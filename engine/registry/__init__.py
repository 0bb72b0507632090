"""The model registry: versions, integrity hashes, lineage, deployments and rollbacks.

Every trained model file becomes a **version** (:func:`register_version`) with the SHA-256
and size of its file; nothing loads or deploys a version without :func:`verify_file` first.
Modules: :mod:`~engine.registry.tables` (the three tables), :mod:`~engine.registry.versions`
(registration, integrity, querying), :mod:`~engine.registry.deployments` (deploy, rollback),
:mod:`~engine.registry.views` (compare, lineage). This file only re-exports their public names.
"""

from engine.registry.versions import (
    ENVIRONMENTS,
    SORT_KEYS,
    DeploymentInfo,
    ModelVersionInfo,
    add_lineage,
    archive,
    current_deployment,
    deploy,
    deployments,
    file_sha256,
    finite_number,
    get_version,
    list_versions,
    metric_return_pct,
    register_version,
    rollback,
    update_version,
    verify_file,
)
from engine.registry.views import compare, equity_curve, flatten_metrics, lineage

__all__ = [
    "ENVIRONMENTS",
    "SORT_KEYS",
    "DeploymentInfo",
    "ModelVersionInfo",
    "add_lineage",
    "archive",
    "compare",
    "current_deployment",
    "deploy",
    "deployments",
    "equity_curve",
    "file_sha256",
    "finite_number",
    "flatten_metrics",
    "get_version",
    "lineage",
    "list_versions",
    "metric_return_pct",
    "register_version",
    "rollback",
    "update_version",
    "verify_file",
]
