"""Tables, a figure and sentences for the LLM look-ahead controls (no engine logic).

They draw what :mod:`engine.llm.scorecard` returns — in ``accuracy_report()`` and in a
replay's result: the two sides of the training cutoff, Claude against the offline control
arm and buy-and-hold, named against blind, and the uncertainty of each figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plotly.graph_objects as go
import polars as pl

SIDE_LABELS = {"inside": "Inside the training window (as of the cutoff or before)",
               "outside": "After the training cutoff",
               "no_cutoff": "No training cutoff (offline analyst)"}
ARM_LABELS = {"claude": "Claude", "offline": "Offline analyst (control arm)",
              "buy_and_hold": "Buy-and-hold"}


def _pct(v: float | None, digits: int = 1) -> float | None:
    return None if v is None else round(100.0 * v, digits)


def _ci(ci: list[float] | None) -> str:
    return "—" if not ci else f"{100 * ci[0]:.0f}–{100 * ci[1]:.0f} %"


def _p(v: float | None) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if v >= 0.001 else f"{v:.1e}")


def _rows(items: list[tuple[str, Mapping[str, Any]]]) -> pl.DataFrame:
    return pl.DataFrame({
        "": [k for k, _ in items],
        "Decisions": [r["decisions"] for _, r in items],
        "Scored": [r["scored"] for _, r in items],
        "Accuracy %": [_pct(r["accuracy"]) for _, r in items],
        "Accuracy 95 % CI": [_ci(r.get("accuracy_ci")) for _, r in items],
        "Followed": [r["followed"] for _, r in items],
        "Win rate %": [_pct(r["win_rate"]) for _, r in items],
        "P&L (USD)": [round(r["pnl_usd"], 2) for _, r in items],
    }, strict=False)


def window_frame(training_window: Mapping[str, Mapping[str, Any]]) -> pl.DataFrame:
    """One row per side of the cutoff that has decisions (accuracy, win rate, P&L)."""
    items = [(SIDE_LABELS[s], r) for s, r in training_window.items() if r["decisions"]]
    return _rows(items)


def arms_frame(comparison: Mapping[str, Any]) -> pl.DataFrame:
    """Claude, the offline control arm and buy-and-hold on the same dates."""
    return _rows([(ARM_LABELS[k], comparison[k]) for k in ARM_LABELS])


def arms_chart(comparison: Mapping[str, Any], title: str = "Accuracy on the same dates"
               ) -> go.Figure:
    """Accuracy of each arm with its Wilson 95 % interval as error bars."""
    names, acc, lo, hi = [], [], [], []
    for k, label in ARM_LABELS.items():
        r = comparison[k]
        names.append(label)
        a = r["accuracy"]
        acc.append(a)
        ci = r.get("accuracy_ci")
        lo.append((a - ci[0]) if ci and a is not None else 0.0)
        hi.append((ci[1] - a) if ci and a is not None else 0.0)
    fig = go.Figure(go.Bar(x=names, y=acc, marker_color=["#636efa", "#9e9e9e", "#00cc96"],
                           error_y={"type": "data", "symmetric": False, "array": hi,
                                    "arrayminus": lo},
                           text=[("n/a" if a is None else f"{a:.0%}") for a in acc],
                           textposition="outside"))
    fig.update_layout(title=title, yaxis={"tickformat": ".0%", "range": [0, 1.1]},
                      height=320, margin={"l": 40, "r": 20, "t": 50, "b": 40})
    return fig


def significance_lines(tests: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The paired tests as sentences (markdown)."""
    out = []
    for key, what in (("vs_offline", "better than the offline analyst"),
                      ("vs_hold", "better than always HOLD")):
        t = tests.get(key)
        if not t or not t["n"]:
            continue
        line = (f"**{what[0].upper() + what[1:]}?** one-sided p = {_p(t['p_value'])} on {t['n']} "
                f"paired decisions ({t['a_only']} right only for Claude, {t['b_only']} only "
                f"for the other; {t['test']})")
        if t.get("note"):
            line += f" — {t['note']}"
        out.append(line)
    return out


def paired_line(p: Mapping[str, Any]) -> str:
    """Named against blind in one sentence (markdown)."""
    gap = "n/a" if p["accuracy_gap"] is None else f"{p['accuracy_gap']:+.1%}"
    agree = "n/a" if p["agreement"] is None else f"{p['agreement']:.0%}"
    line = (f"Named and blind agreed on **{agree}** of {p['pairs']} dates "
            f"(95 % CI {_ci(p.get('agreement_ci'))}); accuracy gap named − blind **{gap}** "
            f"over {p['scored_pairs']} scored pairs (two-sided exact McNemar p = "
            f"{_p(p['test']['p_value'])}). A large positive gap is the signature of "
            "memorisation.")
    if p.get("note"):
        line += f" {p['note'].capitalize()}."
    return line


def uncertainty_line(u: Mapping[str, Any]) -> str:
    """Accuracy interval and calibration in one sentence (markdown)."""
    acc, cal = u["accuracy"], u["calibration"]
    if not acc["n"]:
        return "No scored decision yet."

    def num(v: float | None, ci: list[float] | None) -> str:
        if v is None:
            return "n/a"
        return f"{v:.3f}" + ("" if not ci else f" [{ci[0]:.3f}, {ci[1]:.3f}]")

    line = (f"Accuracy {acc['rate']:.0%} (Wilson 95 % CI {_ci(acc['ci'])}) over {acc['n']} "
            f"scored decisions; Brier score {num(cal['brier'], cal['brier_ci'])}, expected "
            f"calibration error {num(cal['ece'], cal['ece_ci'])} (bootstrap 95 %, seed "
            f"{cal['seed']}).")
    if acc.get("note"):
        line += f" **{acc['note'].capitalize()}.**"
    return line


__all__ = ["ARM_LABELS", "SIDE_LABELS", "arms_chart", "arms_frame", "paired_line",
           "significance_lines", "uncertainty_line", "window_frame"]
