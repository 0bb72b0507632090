"""Monitoring: every deployed model on the newest window against its deployment snapshot.

For every active deployment, the deployed version is evaluated
(:func:`engine.registry.window_evaluation`, i.e. ``engine.neural.evaluate_window``) on the
newest window — the bars of the last ``PERFORMANCE_WINDOW_DAYS`` days of its dataset, at
least ``min_window_bars`` bars — and compared with the deployment's
``performance_snapshot``. Triggers, each compared with **>=** (a drop exactly at the
threshold fires; :data:`~engine.retrain.gate.EPS` absorbs float noise such as
0.85 − 0.80 = 0.04999…):

- ``accuracy``: snapshot accuracy − live accuracy >= ``RETRAIN_THRESHOLD`` (0.05, absolute);
- ``return``: snapshot return % − live return % >= ``RETRAIN_RETURN_THRESHOLD`` (2.0 points);
- ``interval``: hours since the model was last trained or a retrain of it was last
  attempted >= ``RETRAIN_INTERVAL_HOURS`` (24);
- ``paper``: a paper-desk ``model`` sleeve trading the deployed version crosses its book's
  circuit-breaker thresholds (:func:`engine.paper.breaker.breaker_reason`: hit rate over its
  last ``breaker_trades`` closed trades below ``breaker_hit_rate``, or drawdown of its own
  equity beyond ``-breaker_drawdown``; counted since the sleeve was last resumed) — the live
  results, not only a re-evaluated window, can call for a retrain. Each such sleeve's
  numbers are in ``MonitorStatus.paper``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from engine import registry
from engine.db import session_scope
from engine.errors import StratLabError
from engine.retrain.gate import EPS
from engine.retrain.locks import lock_holder
from engine.retrain.policy import RetrainPolicy, get_policy
from engine.retrain.tables import RetrainRecord
from engine.retrain.window import policy_newest_window
from engine.tables import utcnow


def evaluate_triggers(
    policy: RetrainPolicy,
    *,
    snapshot_accuracy: float | None,
    live_accuracy: float | None,
    snapshot_return_pct: float | None,
    live_return_pct: float | None,
    hours_since_training: float | None,
) -> list[str]:
    """The triggers that fire (``accuracy``, ``return``, ``interval``); every comparison is
    ``drop >= threshold`` — exactly at the threshold fires, just below does not."""
    out = []
    if snapshot_accuracy is not None and live_accuracy is not None and (
            snapshot_accuracy - live_accuracy >= policy.accuracy_threshold - EPS):
        out.append("accuracy")
    if snapshot_return_pct is not None and live_return_pct is not None and (
            snapshot_return_pct - live_return_pct >= policy.return_threshold_pct - EPS):
        out.append("return")
    if hours_since_training is not None and (
            hours_since_training >= policy.interval_hours - EPS):
        out.append("interval")
    return out


@dataclass
class MonitorStatus:
    """One deployed model against its deployment snapshot."""

    environment: str
    deployment_id: str
    version_id: str
    model_name: str
    deployed_at: datetime
    snapshot_accuracy: float | None = None
    snapshot_return_pct: float | None = None
    live_accuracy: float | None = None
    live_return_pct: float | None = None
    n: int | None = None
    accuracy_drop: float | None = None
    return_drop: float | None = None
    hours_since_training: float | None = None
    window: dict[str, Any] = field(default_factory=dict)
    triggers: list[str] = field(default_factory=list)
    retrain_running: bool = False
    paper: list[dict[str, Any]] = field(default_factory=list)  # model sleeves' live results
    error: str = ""

    @property
    def should_retrain(self) -> bool:
        return bool(self.triggers) and not self.retrain_running

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["deployed_at"] = self.deployed_at.isoformat()
        d["should_retrain"] = self.should_retrain
        return d


def last_trained(info: registry.ModelVersionInfo) -> datetime:
    """When the model was last trained or a retrain of it was last attempted."""
    with session_scope() as s:
        last = s.exec(select(RetrainRecord.created_at)
                      .where(RetrainRecord.model_name == info.model_name)
                      .order_by(col(RetrainRecord.created_at).desc())).first()
    return max(info.created_at, last) if last else info.created_at


def paper_results(version_id: str) -> list[dict[str, Any]]:
    """The live results of every paper-desk ``model`` sleeve trading ``version_id``:
    ``{"book", "sleeve", "trades", "hit_rate", "drawdown", "reason"}`` (``reason``: the
    breaker rule it crosses, or None; ``hit_rate`` over its last ``breaker_trades`` trades,
    None with fewer)."""
    from engine.paper.breaker import breaker_reason
    from engine.paper.tables import PaperBook, PaperSleeve, PaperTrade

    out = []
    with session_scope() as s:
        for sl in s.exec(select(PaperSleeve).where(PaperSleeve.kind == "model")
                         .order_by(col(PaperSleeve.id))):
            if (sl.config or {}).get("version") != version_id:
                continue
            book = s.get(PaperBook, sl.book_id)
            pnls = list(s.exec(select(PaperTrade.pnl).where(PaperTrade.sleeve_id == sl.id)
                               .order_by(col(PaperTrade.id))))
            pnls = pnls[int(sl.config.get("breaker_since", 0)):]
            n = int(book.breaker_trades)
            reason = breaker_reason(pnls, sl.equity, sl.peak_equity, book)
            out.append({
                "book": book.name, "sleeve": sl.name, "trades": len(pnls),
                "hit_rate": (sum(1 for p in pnls[-n:] if p > 0) / n
                             if len(pnls) >= n > 0 else None),
                "drawdown": sl.equity / sl.peak_equity - 1.0 if sl.peak_equity > 0 else None,
                "reason": reason["text"] if reason else None})
    return out


def check(policy: RetrainPolicy | None = None, *, now: datetime | None = None,
          ) -> list[MonitorStatus]:
    """Every active deployment's live metrics on the newest window and the triggers that
    fire. A model that cannot be evaluated (tampered file, missing dataset) gets ``error``
    and no triggers."""
    policy = policy or get_policy()
    now = now or utcnow()
    out = []
    for dep in registry.deployments():
        if dep.status != "active":
            continue
        snap = dep.performance_snapshot or {}
        st = MonitorStatus(environment=dep.environment, deployment_id=dep.deployment_id,
                           version_id=dep.version_id, model_name=dep.model_name,
                           deployed_at=dep.deployed_at,
                           snapshot_accuracy=registry.finite_number(snap.get("accuracy")),
                           snapshot_return_pct=registry.finite_number(snap.get("return_pct")))
        out.append(st)
        try:
            st.paper = paper_results(dep.version_id)
            info = registry.get_version(dep.version_id)
            st.retrain_running = lock_holder(info.model_name) is not None
            st.hours_since_training = (now - last_trained(info)).total_seconds() / 3600.0
            window = policy_newest_window(registry.version_config(info), policy)
            live = registry.window_evaluation(dep.version_id, window)
        except Exception as exc:  # shown per model; one broken model never stops the rest
            st.error = str(exc) if isinstance(exc, StratLabError) else (
                f"{type(exc).__name__}: {exc}")
            continue
        st.live_accuracy, st.live_return_pct = live["accuracy"], live["return_pct"]
        st.n = live.get("n")
        st.window = {k: live[k] for k in ("window_start", "window_end", "window_bars")}
        if st.snapshot_accuracy is not None and st.live_accuracy is not None:
            st.accuracy_drop = st.snapshot_accuracy - st.live_accuracy
        if st.snapshot_return_pct is not None and st.live_return_pct is not None:
            st.return_drop = st.snapshot_return_pct - st.live_return_pct
        st.triggers = evaluate_triggers(
            policy, snapshot_accuracy=st.snapshot_accuracy, live_accuracy=st.live_accuracy,
            snapshot_return_pct=st.snapshot_return_pct, live_return_pct=st.live_return_pct,
            hours_since_training=st.hours_since_training)
        if any(p["reason"] for p in st.paper):
            st.triggers.append("paper")
    return out
