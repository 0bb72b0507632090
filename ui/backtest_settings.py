"""A backtest's execution settings in words, as they were actually applied, and the page's
own checks of its setting inputs (each error names the control and the fix).

Which of a ``genome``'s genes and the global stop-loss / take-profit / size wins is the
engine's rule (:func:`engine.backtest.trade_levels`: a global value overrides the
gene); this module only says what that rule produced, so a caption never reads "stop-loss
off" while the genes' 6.12 % is applied (issue 10, defect 3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.backtest import STRATEGIES, BacktestSettings, trade_levels
from engine.errors import StratLabError

#: The three levels a genome can carry as genes, with their gene names and labels.
LEVELS: tuple[tuple[str, str, str], ...] = (
    ("stop_loss", "stop_loss", "stop-loss"),
    ("take_profit", "take_profit", "take-profit"),
    ("size", "position_size", "size"),
)


@dataclass(frozen=True)
class Level:
    """One applied level: its fraction (None = off / all-in) and where it came from."""

    value: float | None
    source: str  # "setting", "gene" or "off"

    def text(self, off: str = "off") -> str:
        if self.value is None:
            return off
        return f"{self.value * 100:.2f} %" + (" (gene)" if self.source == "gene" else "")


def _settings(settings: BacktestSettings | Mapping[str, Any]) -> BacktestSettings:
    if isinstance(settings, BacktestSettings):
        return settings
    known = BacktestSettings.__dataclass_fields__
    return BacktestSettings(**{k: v for k, v in dict(settings).items() if k in known})


def applied_levels(strategy: str, params: Mapping[str, Any],
                   settings: BacktestSettings | Mapping[str, Any]) -> dict[str, Level]:
    """Stop-loss, take-profit and size as the engine applied them to this run."""
    s = _settings(settings)
    strat = STRATEGIES.get(strategy)
    p = dict(params)
    if strat is not None:
        try:
            p = strat.resolve(params)
        except StratLabError:
            strat = None
    values = trade_levels(strat, p, s) if strat is not None else (
        s.stop_loss or 0.0, s.take_profit or 0.0, s.size or 0.0)
    out: dict[str, Level] = {}
    for (field, _gene, _label), v in zip(LEVELS, values, strict=True):
        given = getattr(s, field)
        source = "setting" if given is not None else ("gene" if v else "off")
        out[field] = Level(float(v) if v else None, source)
    return out


def settings_line(strategy: str, params: Mapping[str, Any],
                  settings: BacktestSettings | Mapping[str, Any]) -> str:
    """``cash 10,000 · commission 0.100 % · stop-loss 6.12 % (gene) · …`` for a caption or
    a saved-run table: the settings the run actually used."""
    s = _settings(settings)
    lv = applied_levels(strategy, params, s)
    return (f"cash {s.cash:,.0f} · commission {s.commission:.3%} · stop-loss "
            f"{lv['stop_loss'].text()} · take-profit {lv['take_profit'].text()} · size "
            f"{lv['size'].text('all-in')} · "
            f"{'long/short' if s.allow_short else 'long only'} · "
            f"{'fractional' if s.fractional else 'whole'} units")


def gene_note(params: Mapping[str, Any], sl_pct: float, tp_pct: float,
              size_pct: float | None) -> str:
    """What the genome form says about its two sets of stop/target/size fields: for each,
    whether the global field (when set) or the gene applies."""
    parts = []
    for (_field, gene, label), pct in zip(LEVELS, (sl_pct, tp_pct, size_pct), strict=True):
        g = params.get(gene)
        gene_txt = f"{float(g) * 100:.2f} %" if g is not None else "?"
        if pct:
            parts.append(f"{label}: the field's {pct:g} % wins over the gene {gene_txt}")
        else:
            parts.append(f"{label}: the gene `{gene}` {gene_txt} applies")
    return ("genome — a stop-loss, take-profit or size set here overrides the genome's "
            "gene; left at 0 / All-in, the gene applies. " + " · ".join(parts) + ".")


# ------------------------------------------------------------------- the page's own checks

#: key → (the control's label, low, high, low allowed, high allowed, what 0 means)
INPUT_RULES: dict[str, tuple[str, float, float, bool, bool, str]] = {
    "bt_sl_pct": ("Stop-loss %", 0.0, 100.0, True, False, " (0 turns it off)"),
    "bt_tp_pct": ("Take-profit %", 0.0, 100.0, True, False, " (0 turns it off)"),
    "bt_size_pct": ("Size, % of equity", 0.0, 100.0, False, True, ""),
    "bt_commission_pct": ("Commission %", 0.0, 10.0, True, False, ""),
    "bt_cash": ("Cash", 0.0, 1e15, False, True, ""),
}


def input_errors(values: Mapping[str, float | None]) -> list[str]:
    """One line per setting input outside its range, naming the control and the range.

    The number inputs have no min/max of their own: a browser refuses an out-of-range
    value silently (the field turns red and the old value stays), so the page checks and
    blocks the run with the reason instead (issue 10, defect 8).
    """
    errors = []
    for key, value in values.items():
        if value is None or key not in INPUT_RULES:
            continue
        label, lo, hi, lo_ok, hi_ok, zero = INPUT_RULES[key]
        low_bad = value < lo or (value == lo and not lo_ok)
        high_bad = value > hi or (value == hi and not hi_ok)
        if low_bad or high_bad:
            rng = f"{'[' if lo_ok else '('}{lo:g}, {hi:g}{']' if hi_ok else ')'}"
            errors.append(f"**{label}** must be in {rng}{zero}; got {value:g}. Change it to "
                          "run the backtest.")
    return errors
