"""Deployments: which version is current in each environment, deploy and rollback.

One ``model_deployments`` row per deployment of a version to ``paper`` or ``production``;
``status`` is ``active`` (the environment's current one), ``superseded`` or ``rolled_back``.
Each deployment stores a ``performance_snapshot`` — the metrics the auto-retrain monitor
later compares live performance with.

Example::

    deploy(info.version_id, "paper")        # verify, load, snapshot, supersede the old one
    rollback("paper")                       # back to the version deployed before
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from engine.db import session_scope
from engine.errors import ParameterError, StratLabError
from engine.neural.window import DEFAULT_MIN_WINDOW_BARS, DEFAULT_WINDOW_DAYS
from engine.registry import models
from engine.registry.tables import ModelDeployment, ModelVersion
from engine.registry.versions import (
    ModelVersionInfo,
    flatten_metrics,
    get_version,
    verify_file,
    version_row,
)
from engine.tables import utcnow

ENVIRONMENTS = ("paper", "production")


@dataclass(frozen=True)
class DeploymentInfo:
    """A deployment as the pages and the command line see it."""

    deployment_id: str
    version_id: str
    environment: str
    deployed_at: datetime
    status: str
    performance_snapshot: dict[str, Any]
    model_type: str = ""
    model_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["deployed_at"] = self.deployed_at.isoformat()
        return d


def deployment_info(row: ModelDeployment, version: ModelVersion | None = None
                    ) -> DeploymentInfo:
    """The info object of a deployment row (with its version's type and name)."""
    return DeploymentInfo(
        deployment_id=row.deployment_id, version_id=row.version_id,
        environment=row.environment, deployed_at=row.deployed_at, status=row.status,
        performance_snapshot=dict(row.performance_snapshot or {}),
        model_type=version.model_type if version else "",
        model_name=version.model_name if version else "",
    )


def check_environment(environment: str) -> str:
    """``environment`` when it is one of :data:`ENVIRONMENTS`, else a ParameterError."""
    if environment not in ENVIRONMENTS:
        raise ParameterError(
            f"unknown environment {environment!r}; use one of {', '.join(ENVIRONMENTS)}")
    return environment


# ----------------------------------------------------------------------------- deployments

def _policy_window_default() -> tuple[float, int]:
    return DEFAULT_WINDOW_DAYS, DEFAULT_MIN_WINDOW_BARS


_snapshot_window: Callable[[], tuple[float, int]] = _policy_window_default


def set_snapshot_window(source: Callable[[], tuple[float, int]]) -> None:
    """Install where the default snapshot's window comes from: ``source()`` returns
    ``(window_days, min_bars)``. Auto-retrain installs its policy (``engine.retrain``), so a
    deployment is evaluated on the very window the monitor later watches; until then the
    seed's 7 days / 100 bars apply."""
    global _snapshot_window
    _snapshot_window = source


def default_snapshot(info: ModelVersionInfo, window: tuple[float, int] | None = None
                     ) -> dict[str, Any]:
    """The metrics a deployment is later monitored against.

    Preferably the model evaluated on the newest data window — ``window`` as
    ``(window_days, min_bars)``, by default the retrain policy's (see
    :func:`set_snapshot_window`); when that cannot be computed (dataset gone, no training
    configuration), the version's recorded accuracy and return.
    """
    snap: dict[str, Any] = {"accuracy": info.accuracy, "return_pct": info.return_pct,
                            "source": "training", "captured_at": utcnow().isoformat()}
    try:
        days, min_bars = window or _snapshot_window()
        win = models.window_snapshot(info.version_id, window_days=days, min_bars=min_bars)
        if win:
            snap.update(win)
            snap["source"] = "window"
    except Exception as exc:  # best effort: the training metrics remain the baseline
        snap["window_error"] = f"{type(exc).__name__}: {exc}"[:300]
    snap["training_metrics"] = dict(flatten_metrics(info.performance_metrics))
    return snap


def _activate(s: Session, version_id: str, environment: str,
              snapshot: dict[str, Any], old_status: str = "superseded") -> ModelDeployment:
    for cur in s.exec(select(ModelDeployment).where(
            ModelDeployment.environment == environment,
            ModelDeployment.status == "active")).all():
        cur.status = old_status
        s.add(cur)
    # deployed_at strictly increases within an environment, so history has one order
    last = s.exec(select(ModelDeployment.deployed_at).where(
        ModelDeployment.environment == environment)
        .order_by(col(ModelDeployment.deployed_at).desc())).first()
    now = utcnow()
    if last is not None and now <= last:
        now = last + timedelta(microseconds=1)
    row = ModelDeployment(deployment_id=uuid.uuid4().hex, version_id=version_id,
                          environment=environment, deployed_at=now, status="active",
                          performance_snapshot=snapshot)
    s.add(row)
    s.flush()
    return row


def check_loadable(version_id: str) -> None:
    """Load the version exactly as everything that uses it will
    (:func:`engine.registry.load_version`: hash check, then ``torch.load(weights_only=True)``
    and the network rebuilt from its architecture); raise when that fails, so a version that
    cannot be loaded is never made current."""
    try:
        models.load_version(version_id)
    except StratLabError as exc:
        raise type(exc)(f"version {version_id} cannot be loaded, so it is not deployed: "
                        f"{exc}") from None
    except Exception as exc:  # anything else load_version meets is just as fatal
        raise StratLabError(
            f"version {version_id} cannot be loaded, so it is not deployed "
            f"({type(exc).__name__}: {str(exc)[:300]}); retrain it or deploy another "
            "version") from None


def deploy(version_id: str, environment: str, *, snapshot: dict[str, Any] | None = None,
           window: tuple[float, int] | None = None) -> DeploymentInfo:
    """Make ``version_id`` the current model of ``environment`` (``paper``/``production``).

    The file is verified and the model loaded first (:func:`check_loadable`: a tampered,
    missing or unloadable file refuses to deploy); the environment's previous deployment
    becomes ``superseded``; ``performance_snapshot`` stores the metrics the monitor compares
    live performance with (``snapshot`` overrides the default, :func:`default_snapshot` on
    ``window``).
    """
    check_environment(environment)
    info = get_version(version_id)
    if info.status == "ARCHIVED":
        raise StratLabError(f"version {version_id} is archived; archived versions cannot be "
                            "deployed")
    verify_file(version_id)
    check_loadable(version_id)
    snap = dict(snapshot) if snapshot is not None else default_snapshot(info, window)
    with session_scope() as s:
        row = _activate(s, version_id, environment, snap)
        return deployment_info(row, version_row(s, version_id))


def rollback(environment: str) -> DeploymentInfo:
    """Re-deploy the version deployed in ``environment`` before the current one.

    Walks the environment's history back from the current deployment, skipping deployments
    that were themselves rolled back and those of the current version; a deployment that a
    rollback made continues from the one it restored (``performance_snapshot["restored_from"]``),
    so repeated rollbacks walk back one step each. The current one becomes ``rolled_back``;
    the earlier deployment's snapshot is reused; the earlier file is verified and loaded
    first (:func:`check_loadable`).
    """
    check_environment(environment)
    with session_scope() as s:
        rows = s.exec(select(ModelDeployment).where(ModelDeployment.environment == environment)
                      .order_by(col(ModelDeployment.deployed_at).desc(),
                                col(ModelDeployment.deployment_id))).all()
        current = next((r for r in rows if r.status == "active"), None)
        if current is None:
            raise StratLabError(f"nothing is deployed to {environment}; nothing to roll back")
        # a deployment made by a rollback continues the walk from the one it restored
        by_id = {r.deployment_id: r for r in rows}
        start = current
        while (start.performance_snapshot or {}).get("restored_from") in by_id:
            start = by_id[start.performance_snapshot["restored_from"]]
        target = None
        for r in rows:
            if r.deployed_at >= start.deployed_at:
                continue
            if r.status == "rolled_back" or r.version_id == current.version_id:
                continue
            target = r
            break
        if target is None:
            raise StratLabError(_nothing_earlier(environment, current, rows))
        target_version = target.version_id
        snapshot = {**(target.performance_snapshot or {}), "restored_from": target.deployment_id}
    if get_version(target_version).status == "ARCHIVED":
        raise StratLabError(f"the previous version {target_version} is archived; deploy another "
                            "version instead")
    verify_file(target_version)
    check_loadable(target_version)
    with session_scope() as s:
        row = _activate(s, target_version, environment, snapshot, old_status="rolled_back")
        return deployment_info(row, version_row(s, target_version))


def _nothing_earlier(environment: str, current: ModelDeployment,
                     rows: Sequence[ModelDeployment]) -> str:
    """Why a rollback has nowhere to go, naming every version deployed there: the
    current one is the earliest still eligible; later ones were rolled back already."""
    rolled = list(dict.fromkeys(r.version_id for r in rows
                                if r.status == "rolled_back"
                                and r.version_id != current.version_id))
    head = f"no earlier deployment in {environment} to roll back to: {current.version_id} "
    if not rolled:
        return head + "is the only version deployed there"
    return (head + f"is the earliest deployed there, and {', '.join(rolled)} "
            f"{'was' if len(rolled) == 1 else 'were'} deployed later and rolled back already "
            "(deploy a version again to use it)")


def current_deployment(environment: str) -> DeploymentInfo | None:
    """The active deployment of ``environment``, or ``None``."""
    check_environment(environment)
    with session_scope() as s:
        row = s.exec(select(ModelDeployment).where(
            ModelDeployment.environment == environment,
            ModelDeployment.status == "active")).first()
        return deployment_info(row, s.get(ModelVersion, row.version_id)) if row else None


def deployments(environment: str | None = None) -> list[DeploymentInfo]:
    """Every deployment (of one environment, or all), newest first."""
    with session_scope() as s:
        q = select(ModelDeployment)
        if environment is not None:
            q = q.where(ModelDeployment.environment == check_environment(environment))
        rows = s.exec(q.order_by(col(ModelDeployment.deployed_at).desc())).all()
        versions = {v.version_id: v for v in s.exec(select(ModelVersion)).all()}
        return [deployment_info(r, versions.get(r.version_id)) for r in rows]
