"""``evolve`` and ``evolution`` commands.

``evolve`` runs in this process (never through the app's scheduler); a run killed midway
is resumed with ``--resume RUN`` and loses at most the generation in flight.
"""

from __future__ import annotations

import sys
from typing import Any

from engine.cli import args as types
from engine.errors import ParameterError


def register(subparsers) -> None:
    p = subparsers.add_parser("evolve", help="evolve genome strategies (DEAP)")
    p.add_argument("--data", help="dataset symbol or CSV/Parquet path; A,B for a portfolio")
    p.add_argument("--population", type=types.bounded_int(4, 100_000, 50), default=None,
                   help="population size (all islands)")
    p.add_argument("--generations", type=types.bounded_int(0, 100_000, 20), default=None,
                   help="generations after the initial one (with --resume: this many more)")
    p.add_argument("--seed", type=types.seed, default=None)
    p.add_argument("--objective", choices=["single", "multi"], default="single")
    p.add_argument("--fitness", default=None, help="fitness name or module:function")
    p.add_argument("--islands", type=types.bounded_int(1, 64, 4), default=1)
    p.add_argument("--migration-interval", type=types.bounded_int(1, 100_000, 5), default=None)
    p.add_argument("--migration-size", type=types.bounded_int(0, 100_000, 2), default=None)
    split = p.add_mutually_exclusive_group()
    split.add_argument("--oos", type=types.bounded_float(0, 0.9, example="0.3"),
                       default=None, metavar="F",
                       help="out-of-sample fraction held out at the end (default 0.3)")
    split.add_argument("--folds", type=types.bounded_int(2, 20, 4), default=None, metavar="K",
                       help="walk-forward folds (see docs/evolution.md)")
    p.add_argument("--crossover-rate", type=types.fraction, default=None)
    p.add_argument("--mutation-rate", type=types.fraction, default=None)
    p.add_argument("--elite", type=types.bounded_int(0, 100_000, 5),
                   default=None, help="elite size per island")
    p.add_argument("--threshold", type=types.threshold_or_none, default=None,
                   help="stop once the best fitness reaches this ('none' disables)")
    p.add_argument("--backend", choices=["auto", "process", "inline", "ray"], default=None,
                   help="auto (default): worker processes for big generations, this process "
                        "for small ones")
    p.add_argument("--workers", type=types.bounded_int(1, 1024, 4), default=None)
    p.add_argument("--start", default=None, metavar="DATE")
    p.add_argument("--end", default=None, metavar="DATE")
    p.add_argument("--commission", type=types.commission, default=None)
    p.add_argument("--resume", type=types.record_id, default=None, metavar="RUN",
                   help="continue run RUN from its last checkpoint")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evolve)

    e = subparsers.add_parser("evolution", help="list, inspect, reset and promote runs")
    sub = e.add_subparsers(dest="action", required=True)
    ls = sub.add_parser("list", help="every evolution run")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)
    hi = sub.add_parser("history", help="per-generation statistics of a run")
    hi.add_argument("run", type=types.record_id)
    hi.add_argument("--json", action="store_true")
    hi.set_defaults(func=cmd_history)
    po = sub.add_parser("population", help="the latest (or a given) generation's population")
    po.add_argument("run", type=types.record_id)
    po.add_argument("--generation", type=types.bounded_int(0, types.MAX_ID, 0), default=None)
    po.add_argument("--json", action="store_true")
    po.set_defaults(func=cmd_population)
    rs = sub.add_parser("reset", help="clear a run's history (a new population next time)")
    rs.add_argument("run", type=types.record_id)
    rs.add_argument("--same-seed", action="store_true", help="keep the seed")
    rs.add_argument("--json", action="store_true")
    rs.set_defaults(func=cmd_reset)
    pr = sub.add_parser("promote", help="store an individual as a named strategy")
    pr.add_argument("run", type=types.record_id)
    pr.add_argument("uid", help="individual uid, or 'best'")
    pr.add_argument("--name", required=True)
    pr.add_argument("--force", action="store_true",
                    help="promote even when the run's PBO > 0.5 or SPA p > 0.05")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=cmd_promote)
    pl_ = sub.add_parser("promoted", help="list promoted strategies")
    pl_.add_argument("--json", action="store_true")
    pl_.set_defaults(func=cmd_promoted)


def _overrides(args) -> dict[str, Any]:
    pairs = {
        "population_size": args.population, "generations": args.generations,
        "seed": args.seed, "fitness": args.fitness, "oos_fraction": args.oos,
        "walk_forward_folds": args.folds, "crossover_rate": args.crossover_rate,
        "mutation_rate": args.mutation_rate, "elite_size": args.elite,
        "backend": args.backend, "workers": args.workers, "start": args.start,
        "end": args.end, "commission": args.commission,
        "migration_interval": args.migration_interval, "migration_size": args.migration_size,
    }
    out = {k: v for k, v in pairs.items() if v is not None}
    if args.threshold is not None:
        out["fitness_threshold"] = args.threshold
    out["objective"] = args.objective
    out["islands"] = args.islands
    return out


def cmd_evolve(args) -> int:
    from engine.cli import print_json, stderr_progress
    from engine.evolution import EvolutionConfig, create_run, evolve
    from engine.evolution.store import recover_interrupted
    from engine.maintenance import clean_orphans_quietly

    recover_interrupted()
    clean_orphans_quietly()  # files and worker pools a killed run left behind
    progress = None if args.json or not sys.stderr.isatty() else stderr_progress
    if args.resume is not None:
        summary = evolve(args.resume, args.generations, on_progress=progress)
    else:
        if not args.data:
            raise ParameterError("evolve needs --data SYMBOL[,SYMBOL] (or --resume RUN)")
        cfg = EvolutionConfig(symbols=args.data, **_overrides(args))
        summary = evolve(create_run(cfg), on_progress=progress)
    doc = summary.to_dict()
    doc.update(_statistics_keys(doc["run_id"]))
    if isinstance(doc.get("history"), list):  # the same rows as `evolution history --json`
        figures = _figures_by_generation(doc["run_id"])
        blank = dict.fromkeys(doc_keys())
        doc["history"] = [{**h, **figures.get(h.get("generation"), blank)}
                          for h in doc["history"]]
    if summary.fitness_failures:
        sys.stderr.write(f"warning: the fitness raised for {summary.fitness_failures} "
                         f"individual(s), scored {-1e9:g} (latest: {summary.fitness_error}); "
                         f"see `python -m engine evolution history {doc['run_id']}`\n")
    if args.json:
        print_json(doc)
    else:
        b = doc["best"]
        print(f"run {doc['run_id']}: {summary.status}, {doc['generations_done']} generations, "
              f"{doc['evaluations']} evaluations in {doc['seconds']:.2f}s")
        print(f"in-sample to {doc['split']['in_sample_end']}, out-of-sample from "
              f"{doc['split']['out_of_sample_start']}")
        if b.get("params"):
            print(f"best fitness {b['fitness']:.4f}: {b['params']}")
        print(_statistics_line(doc))
    return 0


def _statistics_keys(run_id: int) -> dict[str, Any]:
    """``pbo``, ``spa_pvalue``, ``min_backtest_years`` of the run now (engine.research);
    warnings (PBO, SPA, too short a backtest) go to stderr."""
    from engine.research import run_statistics

    st = run_statistics(run_id)
    for w in st.warnings:
        sys.stderr.write(f"warning: {w}\n")
    return st.json_keys()


def doc_keys() -> tuple[str, ...]:
    from engine.research.stats import JSON_KEYS

    return JSON_KEYS


def _figures_by_generation(run_id: int) -> dict[int, dict[str, Any]]:
    """The data-snooping figures as of each generation count they were computed at (every
    ``evolve`` stores them; the latest generation's are computed now if missing)."""
    from engine.evolution import get_run
    from engine.research.stats import run_statistics, stored_statistics

    figures = {g: st.json_keys() for g, st in stored_statistics(run_id).items()}
    if get_run(run_id).generations_done not in figures:
        st = run_statistics(run_id)
        figures[st.generations_done] = st.json_keys()
    return figures


def _statistics_line(doc: dict[str, Any]) -> str:
    def f(v: Any, spec: str) -> str:
        return "n/a" if v is None else format(v, spec)

    return (f"PBO {f(doc['pbo'], '.2f')}, SPA p {f(doc['spa_pvalue'], '.3f')}, "
            f"minimum backtest {f(doc['min_backtest_years'], '.2f')} years")


def cmd_list(args) -> int:
    from engine.cli import print_json
    from engine.evolution import list_runs
    from engine.evolution.store import recover_interrupted

    recover_interrupted()
    runs = [r.to_dict() for r in list_runs()]
    if args.json:
        print_json(runs)
    else:
        for r in runs:
            bf = r["best_fitness"]
            print(f"{r['id']:5d}  {r['status']:11s} gen {r['generations_done']:4d}  "
                  f"evals {r['evaluations']:6d}  best {bf if bf is not None else float('nan'):.4f}"
                  f"  {','.join(r['config'].get('symbols', []))}")
    return 0


def cmd_history(args) -> int:
    from engine.cli import print_json
    from engine.evolution import history
    from engine.evolution.store import fitness_failures
    failures = fitness_failures(args.run)
    hist = history(args.run)
    # pbo / spa_pvalue / min_backtest_years as of each generation they were computed at;
    # null for the others (docs/research.md)
    figures = _figures_by_generation(args.run) if hist else {}
    blank = dict.fromkeys(doc_keys())
    # a generation where the fitness raised also has fitness_failures and fitness_error
    rows = [{"generation": h.generation, "best": h.best, "mean": h.mean, "worst": h.worst,
             "diversity": h.diversity, **figures.get(h.generation, blank),
             **({"fitness_failures": failures[h.generation]["count"],
                 "fitness_error": failures[h.generation]["error"]}
                if h.generation in failures else {})}
            for h in hist]
    if args.json:
        print_json(rows)
    else:
        for h in rows:
            failed = (f"  fitness raised for {h['fitness_failures']}"
                      if h.get("fitness_failures") else "")
            print(f"{h['generation']:4d}  best {h['best']:.4f}  mean {h['mean']:.4f}  "
                  f"worst {h['worst']:.4f}  diversity {h['diversity']:.3f}{failed}")
        for g, f in sorted(failures.items()):
            print(f"generation {g}: fitness error {f['error']}")
    return 0


def cmd_population(args) -> int:
    from engine.cli import print_json
    from engine.evolution import population

    rows = [i.to_dict() for i in population(args.run, args.generation)]
    if args.json:
        print_json(rows)
    else:
        for i in rows:
            print(f"{i['uid']:6d}  island {i['island']}  age {i['age']:3d}  "
                  f"fitness {i['fitness']:.4f}")
    return 0


def cmd_reset(args) -> int:
    from engine.cli import print_json
    from engine.evolution import reset_run

    info = reset_run(args.run, new_seed=not args.same_seed)
    if args.json:
        print_json(info.to_dict())
    else:
        print(f"run {info.id} reset (seed {info.config.get('seed')})")
    return 0


def cmd_promote(args) -> int:
    from engine.cli import print_json
    from engine.evolution import get_run, promote

    if args.uid == "best":
        uid = get_run(args.run).best_uid
        if uid is None:
            raise ParameterError(f"run {args.run} has no evaluated individual yet; evolve it")
    else:
        try:
            uid = int(args.uid)
        except ValueError:
            raise ParameterError(f"UID must be a number or 'best', got {args.uid!r}") from None
    info = promote(args.run, uid, args.name, force=args.force)
    if args.json:
        print_json(info.to_dict())
    else:
        print(f"promoted run {args.run} individual {uid} as {info.name!r}; run it with "
              f"`python -m engine backtest --data ... --strategy {info.name}`")
    return 0


def cmd_promoted(args) -> int:
    from engine.cli import print_json
    from engine.evolution import list_promoted

    rows = [p.to_dict() for p in list_promoted()]
    if args.json:
        print_json(rows)
    else:
        for p in rows:
            print(f"{p['name']:24s} run {p['source_run_id']} uid {p['source_uid']} "
                  f"fitness {p['fitness']}")
    return 0
