"""Cutting the bars into in-sample / out-of-sample window pairs.

With ``n`` bars, ``K`` windows, ``N`` in-sample and ``M`` out-of-sample bars per window, the
analysis needs ``N + K·M`` bars and uses the **last** ``N + K·M`` of them, so the final
out-of-sample window ends at the last bar (the most recent data is always tested); any
earlier bars serve only as indicator history for out-of-sample trading. With
``s = n − (N + K·M)``, window ``k`` (0-based) is:

- rolling:  in-sample ``[s + k·M, s + k·M + N)``, out-of-sample ``[s + k·M + N, s + (k+1)·M + N)``;
- anchored: in-sample ``[s, s + k·M + N)`` (it grows by ``M`` bars per window), the same
  out-of-sample bars.

So every out-of-sample window starts on the bar after its in-sample window ends and the
out-of-sample windows tile ``[s + N, n)`` without gaps or overlaps. Bar ranges are
half-open ``[lo, hi)`` bar indices of the (start/end-filtered) data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from engine.errors import DataError


@dataclass(frozen=True)
class WindowSpan:
    """One window pair as half-open bar ranges."""

    index: int
    is_lo: int
    is_hi: int
    oos_lo: int
    oos_hi: int

    @property
    def is_bars(self) -> int:
        return self.is_hi - self.is_lo

    @property
    def oos_bars(self) -> int:
        return self.oos_hi - self.oos_lo

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bars_needed(windows: int, is_bars: int, oos_bars: int) -> int:
    """``N + K·M``: the bars ``windows`` window pairs take."""
    return is_bars + windows * oos_bars


def split_windows(n_bars: int, windows: int, is_bars: int, oos_bars: int, *,
                  anchored: bool = False, label: str = "the data") -> list[WindowSpan]:
    """The ``windows`` window pairs over ``n_bars`` bars (see the module docstring).

    Raises :class:`~engine.errors.DataError` naming the shortfall and the fix when the data
    is too short.
    """
    need = bars_needed(windows, is_bars, oos_bars)
    if need > n_bars:
        fits = (n_bars - is_bars) // oos_bars if n_bars > is_bars else 0
        hint = (f"at most --windows {fits} fit with these lengths" if fits >= 1 else
                f"--is-bars must be below {n_bars:,} for even one window")
        raise DataError(
            f"not enough bars for {windows} windows: --is-bars {is_bars:,} + --windows "
            f"{windows} × --oos-bars {oos_bars:,} = {need:,} bars, but {label} has "
            f"{n_bars:,}; lower --windows, --is-bars or --oos-bars ({hint}), or widen "
            "--start/--end")
    s = n_bars - need
    out = []
    for k in range(windows):
        oos_lo = s + k * oos_bars + is_bars
        is_lo = s if anchored else s + k * oos_bars
        out.append(WindowSpan(k, is_lo, oos_lo, oos_lo, oos_lo + oos_bars))
    return out
