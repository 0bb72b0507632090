#!/usr/bin/env python
"""Paper desk replay speed: a five-sleeve book on three symbols, bar by bar.

    python benchmarks/bench_paper.py [--symbols SP500,NASDAQ,GOOG] [--no-model] [--json]

The book (``--max-position-size 1``, no daily loss or correlation limit, breaker off, so
every sleeve trades) holds five sleeves, each on the three symbols (one account per
sleeve, ``1/5`` of the cash each):

1. ``rule`` — ``sma_cross`` (fast 10, slow 30);
2. ``genome`` — a promoted genome (a tiny inline evolution on the first symbol's bars
   before the book's start, promoted with ``force``);
3. ``model`` — a small LSTM (hidden 8, one layer, 2 epochs) trained through
   :func:`engine.registry.train_version` on the bars before the book's start (``--no-model``
   skips it, with a printed note);
4. ``analyst`` — the offline analyst asked every 5 bars per symbol, **if** ``analyst`` is in
   :data:`engine.paper.KINDS` (otherwise skipped, with a printed note);
5. ``ensemble`` — the equal-weight vote of the first three.

The data are the real daily series: the bundled ``SP500`` and ``NASDAQ`` samples and
``shared/data/GOOG_1d.csv`` (imported as ``GOOG``). A multi-symbol sleeve trades the bars
its symbols share, so the span is the common one (GOOG: 2004-08-19 → 2013-03-01); the book
starts ``--warmup`` bars after the first common bar (history before it is warm-up). Three
real series do not share ten years here, so besides the measured figures the script prints
the total extrapolated to 2,520 bars (ten years) from the measured seconds per bar.

Timed: one ``step_book(BOOK, to=END)`` call (every bar its own transaction in a fresh
SQLite database in a temporary directory) — **total seconds**, **bars per second**, and the
**median milliseconds to process one bar for the whole book** (the time between successive
progress callbacks, each one bar). A second replay of a book with only the rule and model
sleeves (rule, genome, model, ensemble) gives the figure the target is about.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GOOG_CSV = ROOT.parent / "shared" / "data" / "GOOG_1d.csv"
TEN_YEARS = 2520


def _setup(symbols: list[str], warmup: int, model: bool) -> dict:
    """Data, the promoted genome and the model version; returns what the books need."""
    from engine.backtest.portfolio import align_frames
    from engine.market import import_file, list_datasets, load_dataset

    known = {d.symbol for d in list_datasets()}
    for sym in symbols:
        if sym not in known:
            if sym == "GOOG" and GOOG_CSV.exists():
                import_file(GOOG_CSV, "GOOG")
            else:
                sys.exit(f"no dataset {sym!r} (and no {GOOG_CSV} to import); pick --symbols "
                         f"from: {', '.join(sorted(known))}")
    frames = align_frames({s: load_dataset(s) for s in symbols})
    ts = frames[symbols[0]].get_column("timestamp")
    start, end = ts[warmup], ts[-1]
    notes = []
    t0 = time.perf_counter()
    genome = _promote_genome(symbols[0], start)
    notes.append(f"genome promoted in {time.perf_counter() - t0:.1f} s")
    version = None
    if model:
        t0 = time.perf_counter()
        version = _train_model(symbols[0], start)
        notes.append(f"model {version} trained in {time.perf_counter() - t0:.1f} s")
    else:
        notes.append("model sleeve skipped (--no-model)")
    return {"start": start, "end": end, "bars_total": ts.len(), "genome": genome,
            "version": version, "notes": notes}


def _promote_genome(symbol: str, before) -> str:
    from datetime import timedelta

    from engine.evolution import EvolutionConfig, create_run, evolve, population, promote

    cfg = EvolutionConfig(symbols=[symbol], population_size=8, generations=2, seed=11,
                          elite_size=2, backend="inline", fitness_threshold=None,
                          end=(before - timedelta(days=1)).strftime("%Y-%m-%d"))
    run_id = create_run(cfg)
    evolve(run_id)
    best = max(population(run_id), key=lambda ind: ind.fitness)
    promote(run_id, best.uid, "bench-genome", force=True)  # tiny run: the gate would ask
    return "bench-genome"


def _train_model(symbol: str, before) -> str:
    from datetime import timedelta

    from engine import registry
    from engine.market import load_dataset
    from engine.neural import TrainConfig

    data = load_dataset(symbol, end=before - timedelta(days=1))
    cfg = TrainConfig(symbol=symbol, model_type="lstm", horizon=3, threshold=0.01, epochs=2,
                      batch_size=64, sequence_length=15, learning_rate=0.005, patience=3,
                      hidden_size=8, num_layers=1, dropout=0.0)
    return registry.train_version(cfg, data=data).version_id


def _book(name: str, symbols: list[str], setup: dict, *, analyst: bool) -> list[str]:
    from engine.paper import KINDS, BookSettings, add_sleeve, create_book
    from engine.risk import BookLimits

    create_book(name, BookSettings(cash=500_000, commission=0.001, start=setup["start"],
                                   limits=BookLimits(max_positions=15, max_position_size=1.0,
                                                     daily_loss_limit_usd=None,
                                                     correlation_limit=None),
                                   breaker=False))
    added = []
    alloc = 0.2

    def add(sleeve: str, kind: str, config: dict) -> None:
        add_sleeve(name, sleeve, kind, symbols, config, alloc)
        added.append(sleeve)

    add("rule", "strategy", {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}})
    add("genome", "strategy", {"strategy": setup["genome"]})
    if setup["version"]:
        add("model", "model", {"version": setup["version"]})
    if analyst:
        if "analyst" in KINDS:
            add("analyst", "analyst", {"provider": "offline", "every": 5})
        else:
            print("note: the analyst sleeve is skipped: 'analyst' is not in "
                  f"engine.paper.KINDS {KINDS}", file=sys.stderr)
    members = [s for s in ("rule", "genome", "model") if s in added]
    add("ensemble", "ensemble", {"members": members})
    return added


def _replay(name: str, end) -> dict:
    from engine.paper import step_book

    stamps: list[float] = []

    def tick(done: int, total: int, message: str = "") -> None:
        stamps.append(time.perf_counter())

    t0 = time.perf_counter()
    res = step_book(name, to=end, on_progress=tick)
    total = time.perf_counter() - t0
    per_bar = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    median_ms = statistics.median(per_bar) * 1000 if per_bar else float("nan")
    p95_ms = (sorted(per_bar)[max(0, int(0.95 * len(per_bar)) - 1)] * 1000 if per_bar
              else float("nan"))
    return {"bars": res.bars, "seconds": total, "bars_per_second": res.bars / total,
            "median_ms_per_bar": median_ms, "p95_ms_per_bar": p95_ms,
            "setup_seconds": total - sum(per_bar),  # data, signals, model predictions
            "ten_year_seconds_extrapolated": total / res.bars * TEN_YEARS,
            "final_equity": res.equity}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    p.add_argument("--symbols", default="SP500,NASDAQ,GOOG")
    p.add_argument("--warmup", type=int, default=100, help="common bars before the start")
    p.add_argument("--no-model", action="store_true", help="skip the neural model sleeve")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    os.environ["STRATLAB_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-paper-")
    os.environ.pop("DATABASE_URL", None)
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()]

    setup = _setup(symbols, args.warmup, model=not args.no_model)
    full = _book("full", symbols, setup, analyst=True)
    rule_model = _book("rule_model", symbols, setup, analyst=False)
    out = {"symbols": symbols, "start": str(setup["start"]), "end": str(setup["end"]),
           "notes": setup["notes"],
           "full": {"sleeves": full, **_replay("full", setup["end"])},
           "rule_and_model": {"sleeves": rule_model, **_replay("rule_model", setup["end"])}}
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return 0
    print(f"symbols {','.join(symbols)}  {out['start'][:10]} → {out['end'][:10]}")
    for note in out["notes"]:
        print(f"  {note}")
    for key in ("full", "rule_and_model"):
        r = out[key]
        print(f"{key:15s} sleeves {','.join(r['sleeves'])}")
        print(f"  {r['bars']:,} bars in {r['seconds']:.2f} s ({r['bars_per_second']:,.0f} "
              f"bars/s); median {r['median_ms_per_bar']:.2f} ms / bar (p95 "
              f"{r['p95_ms_per_bar']:.2f}); setup {r['setup_seconds']:.2f} s; ten years "
              f"(2,520 bars) ≈ {r['ten_year_seconds_extrapolated']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
