"""Evolution benchmark: population 50 × 100 generations and 500 × 20 on GOOG daily.

    python benchmarks/bench_evolution.py [--backends process,inline] [--quick]

Data: ../shared/data/GOOG_1d.csv when present, else backtesting.py's bundled GOOG (the same
bars). Early stop is off so every generation runs. Prints, per backend and size: total
seconds (including worker start-up and the per-generation database commits), evaluations,
evaluations per second, and resident memory (RSS) at the first and last generation plus the
peak sampled once per generation — memory must stay flat over the generations.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    """Current resident set size of this process (MB)."""
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def goog_path(tmp: Path) -> str:
    shared = ROOT.parent / "shared" / "data" / "GOOG_1d.csv"
    if shared.is_file():
        return str(shared)
    import polars as pl
    from backtesting.test import GOOG

    pdf = GOOG.reset_index()
    df = pl.DataFrame({
        "timestamp": pdf.iloc[:, 0].to_numpy().astype("datetime64[us]"),
        **{c.lower(): pdf[c].to_numpy(float) for c in ("Open", "High", "Low", "Close",
                                                          "Volume")},
    })
    out = tmp / "GOOG.parquet"
    df.write_parquet(out)
    return str(out)


def bench(path: str, backend: str, population: int, generations: int) -> dict:
    from engine.evolution import EvolutionConfig, run_evolution

    samples: list[float] = []

    def on_progress(done: int, total: int, message: str = "") -> None:
        samples.append(rss_mb())

    cfg = EvolutionConfig(symbols=[path], population_size=population, generations=generations,
                          seed=42, backend=backend, fitness_threshold=None)
    t0 = time.perf_counter()
    s = run_evolution(cfg, on_progress=on_progress)
    secs = time.perf_counter() - t0
    return {"backend": backend, "population": population, "generations": s.generations_done,
            "evaluations": s.evaluations, "seconds": secs,
            "evals_per_s": s.evaluations / secs, "rss_first_mb": samples[0],
            "rss_last_mb": samples[-1], "rss_peak_mb": max(samples),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "best": s.best.get("fitness")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="process,inline")
    ap.add_argument("--quick", action="store_true", help="10 generations only")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-evo-"))
    os.environ["STRATLAB_DATA_DIR"] = str(tmp / "lab")
    path = goog_path(tmp)
    sizes = [(50, 10 if args.quick else 100), (500, 5 if args.quick else 20)]
    print(f"data: {path}; cores: {os.cpu_count()}")
    print(f"{'backend':8s} {'pop×gen':>9s} {'evals':>7s} {'seconds':>8s} {'evals/s':>8s} "
          f"{'RSS first':>10s} {'RSS last':>9s} {'RSS peak':>9s}")
    for backend in args.backends.split(","):
        for pop, gens in sizes:
            r = bench(path, backend, pop, gens)
            print(f"{backend:8s} {f'{pop}×{gens}':>9s} {r['evaluations']:7d} "
                  f"{r['seconds']:8.2f} {r['evals_per_s']:8.0f} {r['rss_first_mb']:9.0f}M "
                  f"{r['rss_last_mb']:8.0f}M {r['rss_peak_mb']:8.0f}M", flush=True)


if __name__ == "__main__":
    main()
