"""Walk-forward analysis: evolve on each in-sample window, trade the chosen genome on the
next out-of-sample window, stitch the out-of-sample windows into one curve.

The public API — pages and the command line use only these names::

    WalkForwardConfig(symbol=..., windows=K, is_bars=N, oos_bars=M, ...)   (config.py)
    split_windows(n_bars, windows, is_bars, oos_bars, anchored=False) -> list[WindowSpan]
    create_analysis(config) -> int             a new analysis, its windows and runs
    run_analysis(analysis_id, on_progress=None) -> AnalysisInfo   run or resume
    run_walkforward(config, on_progress=None) -> AnalysisInfo     create and run
    start_background(analysis_id) -> str       job id "walkforward-{id}" (job_id(analysis_id))
    get_analysis(analysis_id) -> AnalysisInfo  list_analyses() -> list[AnalysisInfo]
    stitched_curve(analysis_id) -> Stitched    the stitched equity, trades and metrics
    document(info) -> dict                     the ``walkforward --json`` document

See docs/walkforward.md for the windows, the stitching rule, efficiency and gene stability.
"""

from __future__ import annotations

from engine.walkforward.config import WalkForwardConfig
from engine.walkforward.jobs import job_id, start_background
from engine.walkforward.runner import (
    create_analysis,
    document,
    get_analysis,
    list_analyses,
    run_analysis,
    run_walkforward,
    stitched_curve,
)
from engine.walkforward.stitching import Stitched, WindowTrading
from engine.walkforward.store import AnalysisInfo, AnalysisNotFound, WindowInfo
from engine.walkforward.windows import WindowSpan, split_windows

__all__ = [
    "AnalysisInfo",
    "AnalysisNotFound",
    "Stitched",
    "WalkForwardConfig",
    "WindowInfo",
    "WindowSpan",
    "WindowTrading",
    "create_analysis",
    "document",
    "get_analysis",
    "job_id",
    "list_analyses",
    "run_analysis",
    "run_walkforward",
    "split_windows",
    "start_background",
    "stitched_curve",
]
