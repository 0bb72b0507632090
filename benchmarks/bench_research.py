#!/usr/bin/env python
"""Speed of the data-snooping statistics (engine.research).

    python benchmarks/bench_research.py [--trials 5000] [--bars 5040] [--blocks 16]
                                        [--repeat 5] [--matrix]

(a) PBO by CSCV with 16 blocks (12,870 splits) over 5,000 trials: a 5,040 × 5,000 matrix of
    synthetic per-bar returns (numpy, seed 42; 5,040 bars = 20 years of 252 days). Target on
    2 cores: under 2 s warm. "first call" includes numba JIT compilation (or loading it
    from the cache); "warm" is the median of --repeat later calls. The time covers the
    block sums as well as the kernel over the splits.
(b) with --matrix: the step before it in ``run_statistics`` — recomputing the per-bar
    returns of --trials random genomes (seed 7) on SP500 through the batch backtester
    (``returns_matrix``), one call, warm.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=5000)
    ap.add_argument("--bars", type=int, default=5040)
    ap.add_argument("--blocks", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--matrix", action="store_true")
    args = ap.parse_args()

    import numpy as np

    from engine.research import pbo

    print(f"cores: {os.cpu_count()}; NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS')}")
    m = np.random.default_rng(42).normal(0.0002, 0.01, (args.bars, args.trials))
    t0 = time.perf_counter()
    res = pbo(m, args.blocks)
    first = time.perf_counter() - t0
    warm = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        pbo(m, args.blocks)
        warm.append(time.perf_counter() - t0)
    print(f"(a) PBO {args.blocks} blocks ({res.n_splits:,} splits) × {args.trials:,} trials × "
          f"{args.bars:,} bars: first call {first:.2f} s, warm median "
          f"{statistics.median(warm):.3f} s (min {min(warm):.3f}, max {max(warm):.3f}); "
          f"PBO {res.pbo:.3f} (pure noise: about 0.5)")

    if args.matrix:
        from engine.backtest import BacktestSettings, returns_matrix
        from engine.evolution import genome
        from engine.market import load_dataset

        df = load_dataset("SP500")
        rng = random.Random(7)
        params = [genome.to_params(genome.repair(genome.random_genes(rng)))
                  for _ in range(args.trials)]
        s = BacktestSettings(cash=10_000, commission=0.001)
        returns_matrix(df, "genome", params[:10], s)  # compile / load the kernel
        t0 = time.perf_counter()
        r = returns_matrix(df, "genome", params, s)
        dt = time.perf_counter() - t0
        print(f"(b) returns matrix of {args.trials:,} genomes on SP500 ({df.height:,} bars): "
              f"{dt:.2f} s ({args.trials / dt:,.0f} genomes/s), {r.nbytes / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
