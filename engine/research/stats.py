"""The data-snooping statistics of one evolution run, computed once per generation count.

:func:`run_statistics` ties the three tests together on the run's **in-sample** window
(the bars selection saw):

1. every genome the run evaluated (each uid once) is backtested again through the batch
   backtester (:func:`engine.backtest.returns_matrix.returns_matrix`) — per-bar returns are
   never stored — giving the T × N matrix; the benchmark is buy-and-hold of the same bars;
2. **PBO** by CSCV on that matrix (:mod:`engine.research.pbo`, ``n_blocks`` default 16);
3. **SPA** (:mod:`engine.research.spa`) of the run's best genome alone and of the ``top_k``
   genomes by fitness (the best included) against buy-and-hold, and **StepM** over the same
   top k for which of them beat it. ``spa_pvalue`` is the *consistent* p-value of the
   top-k test: its null — none of the k beats buy-and-hold — accounts for the best having
   been picked from them;
4. **MinBTL** (:mod:`engine.research.minbtl`) for the run's number of trials (every
   evaluation, as the deflated Sharpe counts them) against the in-sample years, with a
   warning when the data are shorter.

A figure that cannot be computed (fewer than 2 genomes, too few bars for the blocks) is
None with the reason in ``notes``. The result is stored in ``run_statistics`` and reused
while the run's generation count, its evaluated genomes and the options are unchanged.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from sqlmodel import select

from engine.db import read_scope, session_scope
from engine.errors import ParameterError
from engine.research.minbtl import min_backtest_check
from engine.research.pbo import pbo
from engine.research.spa import spa_test, stepm_test
from engine.research.tables import RunStatisticsRow
from engine.tables import utcnow

__all__ = ["IndividualSPA", "RunStatistics", "individual_spa", "run_statistics",
           "stored_statistics"]

#: The keys ``evolve --json`` and ``evolution history --json`` carry.
JSON_KEYS = ("pbo", "spa_pvalue", "min_backtest_years")


@dataclass
class RunStatistics:
    """PBO, SPA/StepM and MinBTL of one run (module docstring); ``to_dict()`` is JSON-able."""

    run_id: int
    generations_done: int
    n_genomes: int  # columns of the returns matrix (distinct evaluated genomes)
    n_trials: int  # every evaluation of the run (MinBTL's N)
    n_bars: int  # in-sample returns per genome
    data_years: float
    pbo: float | None
    degradation_slope: float | None
    probability_of_loss: float | None
    n_splits: int | None
    spa_pvalue: float | None  # consistent p-value, top k vs buy-and-hold
    spa_pvalues: dict[str, float] | None  # lower / consistent / upper, top k
    spa_best_pvalues: dict[str, float] | None  # the same for the best genome alone
    top_uids: list[int]
    superior_uids: list[int]  # StepM: the top-k genomes that beat buy-and-hold
    best_uid: int | None
    deflated_sharpe: float | None  # the best genome's DSR (engine.evolution.overfitting)
    min_backtest_years: float | None
    too_short: bool
    options: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    computed_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def json_keys(self) -> dict[str, float | None]:
        """``{"pbo", "spa_pvalue", "min_backtest_years"}`` for the command line's JSON."""
        return {k: getattr(self, k) for k in JSON_KEYS}


def _fingerprint(rows: list[Any]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(f"{r.uid}:{r.fitness!r};".encode())
    return h.hexdigest()[:64]


def stored_statistics(run_id: int) -> dict[int, RunStatistics]:
    """Every cached result of ``run_id``, by generation count (nothing is computed)."""
    with read_scope() as s:
        rows = s.exec(select(RunStatisticsRow).where(RunStatisticsRow.run_id == run_id)).all()
        return {r.generations_done: _from_payload(r.payload) for r in rows}


def _from_payload(payload: dict[str, Any]) -> RunStatistics:
    known = {f.name for f in fields(RunStatistics)}
    return RunStatistics(**{"deflated_sharpe": None,
                            **{k: v for k, v in payload.items() if k in known}})


def run_statistics(run_id: int, *, n_blocks: int = 16, top_k: int = 20, reps: int = 1000,
                   seed: int = 0, refresh: bool = False) -> RunStatistics:
    """The run's PBO, SPA/StepM and MinBTL (module docstring), cached per generation count."""
    from engine.evolution.store import all_evaluated, get_run_row

    if top_k < 1 or reps < 1:
        raise ParameterError(f"top_k and reps must be at least 1, got {top_k} and {reps}")
    run = get_run_row(run_id)
    rows = all_evaluated(run_id)
    options = {"n_blocks": n_blocks, "top_k": top_k, "reps": reps, "seed": seed}
    fp = _fingerprint(rows)
    gens = int(run.generations_done)
    if not refresh:
        with read_scope() as s:
            hit = s.exec(select(RunStatisticsRow).where(
                RunStatisticsRow.run_id == run_id,
                RunStatisticsRow.generations_done == gens)).first()
            if hit is not None and hit.fingerprint == fp and hit.options == options:
                return _from_payload(hit.payload)
    result = _compute(run, rows, options)
    _store(result, fp)
    return result


def _in_sample(run: Any) -> tuple[Any, Any, float]:
    """The run's config, its in-sample frames and their periods per year."""
    from engine.backtest.metrics import periods_per_year
    from engine.evolution.config import EvolutionConfig
    from engine.evolution.evaluate import load_windows

    cfg = EvolutionConfig(**run.config)
    frames = load_windows(cfg).frames["is"]
    ts = next(iter(frames.values())).get_column("timestamp")
    return cfg, frames, float(periods_per_year(ts))


def _compute(run: Any, rows: list[Any], options: dict[str, Any]) -> RunStatistics:
    from engine.backtest.returns_matrix import buy_hold_returns, returns_matrix
    from engine.evolution.evaluate import backtest_settings

    notes: list[str] = []
    warnings: list[str] = []
    cfg, frames, ppy = _in_sample(run)
    uids = [int(r.uid) for r in rows]
    matrix = returns_matrix(frames, "genome", [dict(r.params) for r in rows],
                            backtest_settings(cfg))
    bench = buy_hold_returns(frames)
    n_bars = int(bench.shape[0])
    years = n_bars / ppy if ppy > 0 else 0.0
    n_trials = max(int(run.evaluations), len(rows), 1)

    pbo_res = None
    if len(rows) < 2:
        notes.append("PBO needs at least 2 evaluated genomes; evolve the run")
    else:
        try:
            pbo_res = pbo(matrix, options["n_blocks"])
        except ParameterError as exc:
            notes.append(f"PBO not computed: {exc}")
        else:
            if pbo_res.pbo > 0.5:
                warnings.append(f"PBO {pbo_res.pbo:.2f}: in {pbo_res.pbo:.0%} of the "
                                f"{pbo_res.n_splits:,} splits the in-sample best genome ranked "
                                "in the lower half out of sample")

    order = sorted(range(len(rows)), key=lambda i: -_num(rows[i].fitness))
    top = order[: options["top_k"]]
    best_uid = run.best_uid if run.best_uid in uids else (uids[top[0]] if top else None)
    spa_p = spa_best = None
    superior: list[int] = []
    if top:
        try:
            kw = {"reps": options["reps"], "seed": options["seed"]}
            spa_top = spa_test(matrix[:, top], bench, labels=[uids[i] for i in top], **kw)
            spa_p = {k: getattr(spa_top, k) for k in ("lower", "consistent", "upper")}
            b = spa_test(matrix[:, uids.index(best_uid)], bench, labels=[best_uid], **kw)
            spa_best = {k: getattr(b, k) for k in ("lower", "consistent", "upper")}
            superior = [int(u) for u in stepm_test(matrix[:, top], bench,
                                                   labels=[uids[i] for i in top],
                                                   **kw).superior]
        except ParameterError as exc:
            notes.append(f"SPA not computed: {exc}")
        else:
            if spa_p["consistent"] > 0.05:
                warnings.append(f"SPA p {spa_p['consistent']:.3f} > 0.05: the top "
                                f"{len(top)} genomes do not beat buy-and-hold beyond luck")
    else:
        notes.append("SPA needs at least 1 evaluated genome; evolve the run")

    dsr = None
    if best_uid is not None:
        from engine.evolution.overfitting import assess

        trials = [r.in_sample.get("sharpe") for r in rows]
        best_row = rows[uids.index(best_uid)]
        dsr = assess(matrix[:, uids.index(best_uid)], [t for t in trials if t is not None],
                     n_trials, ppy, best_row.in_sample.get("sharpe"), None).deflated_sharpe
    minbtl = min_backtest_check(n_trials, years)
    if minbtl.warning:
        warnings.append(minbtl.warning)
    return RunStatistics(
        run_id=int(run.id), generations_done=int(run.generations_done),
        n_genomes=len(rows), n_trials=n_trials, n_bars=n_bars, data_years=years,
        pbo=pbo_res.pbo if pbo_res else None,
        degradation_slope=pbo_res.degradation_slope if pbo_res else None,
        probability_of_loss=pbo_res.probability_of_loss if pbo_res else None,
        n_splits=pbo_res.n_splits if pbo_res else None,
        spa_pvalue=spa_p["consistent"] if spa_p else None, spa_pvalues=spa_p,
        spa_best_pvalues=spa_best, top_uids=[uids[i] for i in top],
        superior_uids=superior, best_uid=best_uid, deflated_sharpe=dsr,
        min_backtest_years=minbtl.min_backtest_years, too_short=minbtl.too_short,
        options=dict(options), warnings=warnings, notes=notes,
        computed_at=utcnow().isoformat(),
    )


def _num(v: Any) -> float:
    return float(v) if v is not None and math.isfinite(float(v)) else -math.inf


def _store(result: RunStatistics, fingerprint: str) -> None:
    from sqlalchemy import delete

    from engine.evolution.store import clean

    payload = clean(result.to_dict())
    with session_scope() as s:
        s.execute(delete(RunStatisticsRow).where(
            RunStatisticsRow.run_id == result.run_id,
            RunStatisticsRow.generations_done == result.generations_done))
        s.add(RunStatisticsRow(
            run_id=result.run_id, generations_done=result.generations_done,
            fingerprint=fingerprint, options=result.options, pbo=result.pbo,
            spa_pvalue=result.spa_pvalue, min_backtest_years=result.min_backtest_years,
            payload=payload))


@dataclass(frozen=True)
class IndividualSPA:
    """One genome's SPA p-values against buy-and-hold on the run's in-sample bars."""

    run_id: int
    uid: int
    lower: float
    consistent: float
    upper: float
    superior: bool | None  # StepM's verdict when the genome is among the run's top k

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def individual_spa(run_id: int, uid: int, *, reps: int = 1000, seed: int = 0
                   ) -> IndividualSPA:
    """SPA of genome ``uid`` alone vs buy-and-hold (the inspector shows it with the DSR)."""
    from engine.backtest.returns_matrix import buy_hold_returns, returns_matrix
    from engine.evolution.evaluate import backtest_settings
    from engine.evolution.store import get_run_row, individual_row

    run = get_run_row(run_id)
    row = individual_row(run_id, uid)
    cfg, frames, _ = _in_sample(run)
    r = returns_matrix(frames, "genome", [dict(row.params)], backtest_settings(cfg))
    res = spa_test(r, buy_hold_returns(frames), labels=[uid], reps=reps, seed=seed)
    cached = stored_statistics(run_id).get(int(run.generations_done))
    superior = (uid in cached.superior_uids if cached is not None and uid in cached.top_uids
                else None)
    return IndividualSPA(run_id=run_id, uid=uid, lower=res.lower, consistent=res.consistent,
                         upper=res.upper, superior=superior)

