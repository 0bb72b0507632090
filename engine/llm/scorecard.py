"""Scoring recorded decisions: rates with intervals, the two sides of the training cutoff,
Claude against its controls, named against blind.

- :func:`rates` — decisions, scored, accuracy (Wilson interval), followed, win rate (Wilson
  interval), P&L, API cost, ROI on API cost, mean confidence.
- :func:`by_window` — :func:`rates` for decisions inside the models' training window, after
  it, and without a cutoff (the offline analyst) — never mixed (:mod:`engine.llm.lookahead`).
- :func:`arms` — a Claude replay's decisions against the **offline control arm** recorded for
  the same as-of dates (same ``replay_id``) and against **buy-and-hold** on those dates (a
  long of ``risk.max_position_size`` held over each decision's horizon: correct when the
  price rose, P&L = raw move · size · ``risk.portfolio_usd``), with the paired tests of
  "better than the offline analyst" and "better than always HOLD" (a HOLD is right when
  ``|raw_move_pct| < tracking.hold_band_pct``) on the same decisions
  (:func:`engine.llm.uncertainty.paired_test`).
- :func:`paired` — a paired replay's named and blind decisions for the same dates: the
  agreement rate (same BUY / SELL / HOLD), the accuracy gap named − blind over the dates
  both were scored, and a two-sided exact McNemar test of it. A large positive gap is the
  signature of memorisation: the model does better when it knows what it is looking at.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from engine.llm.lookahead import SIDES, side
from engine.llm.prompts import LLMConfig
from engine.llm.uncertainty import calibration, paired_test, proportion, wilson


def _ci(k: int, n: int) -> list[float] | None:
    ci = wilson(k, n)
    return list(ci) if ci else None


def rates(rows: list[Any]) -> dict[str, Any]:
    """The accuracy figures of ``rows`` (``ai_decisions`` rows or objects like them)."""
    scored = [r for r in rows if r.correct is not None]
    followed = [r for r in scored if r.actionable and r.pnl_usd is not None]
    pnl = sum(r.pnl_usd or 0.0 for r in followed)
    cost = sum(r.total_cost for r in rows)
    right = sum(1 for r in scored if r.correct)
    wins = sum(1 for r in followed if (r.pnl_usd or 0) > 0)
    return {
        "decisions": len(rows),
        "scored": len(scored),
        "accuracy": (right / len(scored)) if scored else None,
        "accuracy_ci": _ci(right, len(scored)),
        "followed": len(followed),
        "win_rate": (wins / len(followed)) if followed else None,
        "win_rate_ci": _ci(wins, len(followed)),
        "pnl_usd": pnl,
        "api_cost_usd": cost,
        "roi_on_api_cost": (pnl / cost) if cost > 0 else None,
        "mean_confidence": (sum(r.confidence for r in scored) / len(scored)) if scored else None,
    }


def by_window(rows: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """:func:`rates` of each side of the training cutoff (``inside`` / ``outside`` /
    ``no_cutoff``)."""
    groups: dict[str, list[Any]] = {s: [] for s in SIDES}
    for r in rows:
        groups[side(r.in_training_window)].append(r)
    return {s: rates(v) for s, v in groups.items()}


def _is_claude(r: Any) -> bool:
    return r.provider == "anthropic" and r.arm != "control"


def hold_right(r: Any, band: float) -> bool | None:
    """Whether HOLD would have been right for ``r``'s as-of date (None until scored)."""
    return None if r.raw_move_pct is None else abs(r.raw_move_pct) < band


def _buy_and_hold(controls: list[Any], cfg: LLMConfig) -> dict[str, Any]:
    moves = [r.raw_move_pct for r in controls if r.raw_move_pct is not None]
    up = sum(1 for m in moves if m > 0)
    size, notional = cfg.risk.max_position_size, cfg.risk.portfolio_usd
    return {"decisions": len(controls), "scored": len(moves),
            "accuracy": (up / len(moves)) if moves else None, "accuracy_ci": _ci(up, len(moves)),
            "followed": len(moves), "win_rate": (up / len(moves)) if moves else None,
            "win_rate_ci": _ci(up, len(moves)),
            "pnl_usd": sum(m / 100.0 * size * notional for m in moves), "api_cost_usd": 0.0,
            "roi_on_api_cost": None,
            "mean_move_pct": (sum(moves) / len(moves)) if moves else None}


def arms(rows: Iterable[Any], cfg: LLMConfig, *,
         main: Callable[[Any], bool] | None = None) -> dict[str, Any]:
    """Claude (or the rows ``main`` picks), the offline control arm and buy-and-hold on the
    same replay dates, with the paired tests (see the module docstring)."""
    rows = list(rows)
    main = main or _is_claude
    control = {(r.replay_id, r.as_of): r for r in rows
               if r.arm == "control" and r.replay_id}
    claude = [r for r in rows if main(r) and r.arm != "control" and r.replay_id
              and (r.replay_id, r.as_of) in control]
    used = {(r.replay_id, r.as_of) for r in claude}
    controls = [control[k] for k in sorted(used, key=lambda k: (k[0], k[1]))]
    band = cfg.tracking.hold_band_pct
    both = [(r, control[(r.replay_id, r.as_of)]) for r in claude]
    both = [(a, b) for a, b in both if a.correct is not None and b.correct is not None]
    held = [(r.correct, hold_right(r, band)) for r in claude
            if r.correct is not None and r.raw_move_pct is not None]
    return {
        "claude": rates(claude),
        "offline": rates(controls),
        "buy_and_hold": _buy_and_hold(controls, cfg),
        "dates": len(controls),
        "tests": {
            "vs_offline": paired_test([a.correct for a, _ in both],
                                      [b.correct for _, b in both]),
            "vs_hold": paired_test([a for a, _ in held], [h for _, h in held]),
        },
    }


def paired(rows: Iterable[Any]) -> dict[str, Any]:
    """Named against blind decisions of the same replay and as-of date (see the module
    docstring): ``{"pairs", "agreement", "agreement_ci", "scored_pairs", "named_accuracy",
    "blind_accuracy", "accuracy_gap", "test"}``."""
    by_key: dict[tuple[str, Any], dict[str, Any]] = defaultdict(dict)
    for r in rows:
        if r.replay_id and r.arm in ("named", "blind"):
            by_key[(r.replay_id, r.as_of)][r.arm] = r
    pairs = [(v["named"], v["blind"]) for _, v in sorted(by_key.items(),
                                                          key=lambda kv: (kv[0][0], kv[0][1]))
             if "named" in v and "blind" in v]
    same = sum(1 for a, b in pairs if a.decision == b.decision)
    scored = [(a, b) for a, b in pairs if a.correct is not None and b.correct is not None]
    n_acc = sum(1 for a, _ in scored if a.correct) / len(scored) if scored else None
    b_acc = sum(1 for _, b in scored if b.correct) / len(scored) if scored else None
    agree = proportion(same, len(pairs))
    return {
        "pairs": len(pairs), "agreement": agree["rate"], "agreement_ci": agree["ci"],
        "scored_pairs": len(scored), "named_accuracy": n_acc, "blind_accuracy": b_acc,
        "accuracy_gap": (n_acc - b_acc) if scored else None,
        "test": paired_test([a.correct for a, _ in scored], [b.correct for _, b in scored],
                            alternative="two-sided"),
        "small_sample": len(pairs) < 30, "note": agree["note"],
    }


def uncertainty(rows: Iterable[Any], cfg: LLMConfig, *, seed: int = 0) -> dict[str, Any]:
    """Calibration (Brier, ECE with bootstrap intervals) of the scored decisions, the
    accuracy's Wilson interval and the test against always-HOLD on the same decisions."""
    scored = [r for r in rows if r.correct is not None]
    band = cfg.tracking.hold_band_pct
    held = [(r.correct, hold_right(r, band)) for r in scored if r.raw_move_pct is not None]
    return {
        "accuracy": proportion(sum(1 for r in scored if r.correct), len(scored)),
        "calibration": calibration([r.confidence for r in scored],
                                   [r.correct for r in scored], seed=seed),
        "vs_hold": paired_test([a for a, _ in held], [h for _, h in held]),
    }


__all__ = ["arms", "by_window", "hold_right", "paired", "rates", "uncertainty"]
