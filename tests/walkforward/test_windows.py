"""Window splitting, worked by hand."""

from __future__ import annotations

import pytest

from engine.errors import DataError
from engine.walkforward import WindowSpan, split_windows
from engine.walkforward.windows import bars_needed


def spans(ws):
    return [(w.is_lo, w.is_hi, w.oos_lo, w.oos_hi) for w in ws]


def test_rolling_windows_by_hand():
    # 100 bars, K=3, N=40, M=20: need 40 + 3·20 = 100 bars, s = 0.
    # window 0: IS [0, 40)  OOS [40, 60); window 1: IS [20, 60) OOS [60, 80);
    # window 2: IS [40, 80) OOS [80, 100)
    ws = split_windows(100, 3, 40, 20)
    assert spans(ws) == [(0, 40, 40, 60), (20, 60, 60, 80), (40, 80, 80, 100)]
    assert [w.index for w in ws] == [0, 1, 2]
    assert all(w.is_bars == 40 and w.oos_bars == 20 for w in ws)


def test_windows_end_at_the_last_bar():
    # 107 bars, same lengths: s = 107 - 100 = 7, everything shifts by 7
    ws = split_windows(107, 3, 40, 20)
    assert spans(ws) == [(7, 47, 47, 67), (27, 67, 67, 87), (47, 87, 87, 107)]


def test_anchored_windows_grow_from_the_first_used_bar():
    # anchored: IS always starts at s = 7 and grows by M = 20 bars per window
    ws = split_windows(107, 3, 40, 20, anchored=True)
    assert spans(ws) == [(7, 47, 47, 67), (7, 67, 67, 87), (7, 87, 87, 107)]
    assert [w.is_bars for w in ws] == [40, 60, 80]


def test_out_of_sample_windows_tile_without_gaps():
    ws = split_windows(5031, 5, 1000, 600)
    assert ws[0].oos_lo == 5031 - 5 * 600
    for a, b in zip(ws, ws[1:], strict=False):
        assert a.oos_hi == b.oos_lo and a.is_hi == a.oos_lo
    assert ws[-1].oos_hi == 5031


def test_one_window_uses_exactly_the_last_bars():
    assert spans(split_windows(50, 1, 30, 20)) == [(0, 30, 30, 50)]
    assert bars_needed(1, 30, 20) == 50
    assert split_windows(50, 1, 30, 20)[0] == WindowSpan(0, 0, 30, 30, 50)


def test_not_enough_bars_names_the_flags_and_the_fix():
    # 2000 + 5·700 = 5,500 > 5,031; (5031 - 2000) // 700 = 4 windows would fit
    with pytest.raises(DataError, match=r"not enough bars for 5 windows: --is-bars 2,000 \+ "
                       r"--windows 5 × --oos-bars 700 = 5,500 bars, but SP500 has 5,031; "
                       r"lower --windows, --is-bars or --oos-bars \(at most --windows 4 fit"):
        split_windows(5031, 5, 2000, 700, label="SP500")
    with pytest.raises(DataError, match=r"--is-bars must be below 100 for even one window"):
        split_windows(100, 1, 100, 10)
