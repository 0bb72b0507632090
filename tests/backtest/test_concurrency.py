"""Parallel kernels launched from several threads (UI + background jobs) stay correct."""

from concurrent.futures import ThreadPoolExecutor

from engine.backtest import run_batch


def test_concurrent_batches_from_threads_give_the_same_numbers(goog):
    sets = [{"fast": f, "slow": s} for f in range(5, 15) for s in range(30, 60, 5)]
    ref = run_batch(goog, "sma_cross", sets).metrics
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: run_batch(goog, "sma_cross", sets).metrics, range(8)))
    for got in results:
        assert (got == ref).all()
