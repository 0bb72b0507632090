"""``models …`` (the registry) and ``retrain …`` (auto-retraining) commands.

The command line works directly on the database; ``retrain now`` retrains in this process
(it never goes through the app's scheduler, PRACTICES.md pitfall 4).
"""

from __future__ import annotations

import sys
from typing import Any

from engine.cli import args as types

LIST_FIELDS = ("version_id", "model_name", "model_type", "status", "created_at", "created_by",
               "parent_version", "file_hash", "file_size", "file_path", "tags", "description",
               "deployed_to")


def register(subparsers) -> None:
    m = subparsers.add_parser("models", help="model registry: versions, deployments, lineage")
    ms = m.add_subparsers(dest="models_command", required=True)

    p = ms.add_parser("list", help="list versions (newest first)")
    p.add_argument("--type", dest="model_type", default=None, help="lstm or transformer")
    p.add_argument("--status", default=None, help="ACTIVE or ARCHIVED")
    p.add_argument("--tag", default=None)
    p.add_argument("--search", default=None, help="text in id, name, description or tags")
    p.add_argument("--sort", default="created_at",
                   help="created_at, accuracy, return_pct, sharpe, ... (default created_at)")
    p.add_argument("--asc", action="store_true", help="ascending order")
    p.add_argument("--limit", type=types.list_limit, default=None)
    p.set_defaults(func=cmd_list)

    p = ms.add_parser("show", help="every field of one version")
    p.add_argument("version")
    p.set_defaults(func=cmd_show)

    p = ms.add_parser("verify", help="check a version's file against its SHA-256")
    p.add_argument("version")
    p.set_defaults(func=cmd_verify)

    p = ms.add_parser("compare", help="two versions side by side")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--recompute-equity", action="store_true",
                   help="re-run models without a stored equity curve on the newest bars")
    p.set_defaults(func=cmd_compare)

    p = ms.add_parser("deploy", help="deploy a version to an environment")
    p.add_argument("version")
    p.add_argument("--env", required=True, choices=("paper", "production"))
    p.set_defaults(func=cmd_deploy)

    p = ms.add_parser("rollback", help="re-deploy the previously deployed version")
    p.add_argument("--env", required=True, choices=("paper", "production"))
    p.set_defaults(func=cmd_rollback)

    p = ms.add_parser("deployments", help="deployment history (newest first)")
    p.add_argument("--env", default=None, choices=("paper", "production"))
    p.set_defaults(func=cmd_deployments)

    p = ms.add_parser("lineage", help="ancestors and descendants of a version")
    p.add_argument("version")
    p.set_defaults(func=cmd_lineage)

    p = ms.add_parser("archive", help="archive a version")
    p.add_argument("version")
    p.set_defaults(func=cmd_archive)

    p = ms.add_parser("tag", help="set a version's tags and/or description")
    p.add_argument("version")
    p.add_argument("--tags", default=None, help="comma-separated; replaces the tags")
    p.add_argument("--description", default=None)
    p.set_defaults(func=cmd_tag)

    r = subparsers.add_parser("retrain", help="auto-retrain: monitor, retrain, queue, history")
    rs = r.add_subparsers(dest="retrain_command", required=True)
    p = rs.add_parser("check", help="deployed models against their snapshots; triggers")
    p.set_defaults(func=cmd_check)
    p = rs.add_parser("now", help="retrain a version now (in this process), quality-gated")
    p.add_argument("version")
    p.set_defaults(func=cmd_now)
    p = rs.add_parser("queue", help="retrains waiting or running")
    p.set_defaults(func=cmd_queue)
    p = rs.add_parser("history", help="finished retrains (newest first)")
    p.add_argument("--limit", type=types.list_limit, default=50)
    p.set_defaults(func=cmd_history)
    p = rs.add_parser("policy", help="show (or --set / --reset) the retrain policy")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--reset", action="store_true", help="forget values saved on the page")
    p.set_defaults(func=cmd_policy)

    for group in (ms, rs):
        for sub in group.choices.values():
            sub.add_argument("--json", action="store_true", help="print one JSON document")


# ------------------------------------------------------------------------------- helpers

def _out(args, obj: Any, text: str) -> int:
    from engine.cli import print_json

    if args.json:
        print_json(obj)
    else:
        sys.stdout.write(text.rstrip("\n") + "\n")
    return 0


def _fmt(v: Any, kind: str = "num") -> str:
    if v is None:
        return "-"
    if kind == "pct":
        return f"{v:.2f}%"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _row(info) -> dict[str, Any]:
    d = info.to_dict()
    out = {k: d[k] for k in LIST_FIELDS}
    out["accuracy"], out["return_pct"] = info.accuracy, info.return_pct
    return out


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]

    def line(r: list) -> str:
        return "  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=False))

    return "\n".join([line(header), *(line(r) for r in rows)])


# ------------------------------------------------------------------------------ models

def cmd_list(args) -> int:
    from engine import registry

    infos = registry.list_versions(model_type=args.model_type, status=args.status, tag=args.tag,
                                   search=args.search, sort=args.sort,
                                   descending=not args.asc, limit=args.limit)
    rows = [_row(i) for i in infos]
    text = _table([[r["version_id"], r["model_type"], r["status"], _fmt(r["accuracy"]),
                    _fmt(r["return_pct"], "pct"), ",".join(r["deployed_to"]) or "-",
                    r["parent_version"] or "-", r["created_at"][:19]] for r in rows],
                  ["version", "type", "status", "accuracy", "return", "deployed", "parent",
                   "created"]) if rows else "no model versions yet; train one with " \
                                             "`python -m engine train`"
    return _out(args, rows, text)


def cmd_show(args) -> int:
    from engine import registry

    info = registry.get_version(args.version)
    d = info.to_dict()
    text = "\n".join(f"{k}: {v}" for k, v in d.items() if k not in ("metadata",)) + \
        f"\nmetadata keys: {', '.join(sorted(info.metadata))}"
    return _out(args, d, text)


def cmd_verify(args) -> int:
    from engine import registry

    path = registry.verify_file(args.version)
    return _out(args, {"version_id": args.version, "ok": True, "file_path": str(path)},
                f"{args.version}: the file matches its SHA-256 ({path})")


def cmd_compare(args) -> int:
    from engine import registry

    c = registry.compare(args.a, args.b, recompute_equity=args.recompute_equity)
    lines = [_table([[r["metric"], _fmt(r["a"]), _fmt(r["b"]), _fmt(r["diff"])]
                     for r in c["metrics"]], ["metric", args.a, args.b, "b - a"])]
    if c["config_diff"]:
        lines += ["", "config differences:", _table(
            [[d["key"], d["a"], d["b"]] for d in c["config_diff"]], ["key", "a", "b"])]
    return _out(args, c, "\n".join(lines))


def _dep_text(d) -> str:
    when = f"{d.deployed_at:%Y-%m-%d %H:%M:%S}"
    return f"{d.environment}: {d.version_id} ({d.status}, deployed {when})"


def cmd_deploy(args) -> int:
    from engine import registry, retrain

    # the snapshot is evaluated on the retrain policy's newest window, as the monitor sees it
    d = registry.deploy(args.version, args.env, window=retrain.policy_window())
    return _out(args, d.to_dict(), "deployed " + _dep_text(d))


def cmd_rollback(args) -> int:
    from engine import registry

    d = registry.rollback(args.env)
    return _out(args, d.to_dict(), "rolled back " + _dep_text(d))


def cmd_deployments(args) -> int:
    from engine import registry

    deps = registry.deployments(args.env)
    return _out(args, [d.to_dict() for d in deps],
                "\n".join(_dep_text(d) for d in deps) or "no deployments yet")


def cmd_lineage(args) -> int:
    from engine import registry

    g = registry.lineage(args.version)
    text = _table([[("  " * (n["depth"] - min(x["depth"] for x in g["nodes"]))) + n["version_id"],
                    n["depth"], n["status"], ",".join(n["deployed_to"]) or "-"]
                   for n in g["nodes"]], ["version", "depth", "status", "deployed"])
    text += "\n\n" + "\n".join(f"{e['source']} -[{e['relationship']}]-> {e['target']}"
                               for e in g["edges"])
    return _out(args, g, text)


def cmd_archive(args) -> int:
    from engine import registry

    info = registry.archive(args.version)
    return _out(args, _row(info), f"archived {info.version_id}")


def cmd_tag(args) -> int:
    from engine import registry

    tags = None if args.tags is None else [t for t in args.tags.split(",")]
    info = registry.update_version(args.version, tags=tags, description=args.description)
    return _out(args, _row(info), f"{info.version_id}: tags {info.tags}, "
                                  f"description {info.description!r}")


# ------------------------------------------------------------------------------ retrain

def cmd_check(args) -> int:
    from engine import retrain

    sts = retrain.check()
    text = _table([[s.environment, s.version_id, _fmt(s.snapshot_accuracy),
                    _fmt(s.live_accuracy), _fmt(s.snapshot_return_pct, "pct"),
                    _fmt(s.live_return_pct, "pct"), "+".join(s.triggers) or "-",
                    s.error[:60] or "ok"] for s in sts],
                  ["env", "version", "acc@deploy", "acc now", "ret@deploy", "ret now",
                   "triggers", "status"]) if sts else "no deployed models to monitor"
    return _out(args, [s.to_dict() for s in sts], text)


def _rec_text(r) -> str:
    old = (r.old_metrics or {}).get("holdout", {})
    new = (r.new_metrics or {}).get("holdout", {})
    return (f"#{r.id} {r.status:<8} {r.version_id} -> {r.new_version_id or '-'} "
            f"trigger={r.trigger} acc {_fmt(old.get('accuracy'))} -> "
            f"{_fmt(new.get('accuracy'))}  {r.reason or r.error}")


def cmd_now(args) -> int:
    from engine import retrain
    from engine.maintenance import clean_orphans_quietly

    clean_orphans_quietly()  # files a killed run left behind (engine.maintenance)
    rec = retrain.retrain_now(args.version, "manual")
    _out(args, rec.to_dict(), _rec_text(rec))
    if rec.status == "failed":
        sys.stderr.write(f"error: retrain failed: {rec.error}\n")
        return 1
    return 0


def cmd_queue(args) -> int:
    from engine import retrain

    q = retrain.queue()
    return _out(args, [r.to_dict() for r in q],
                "\n".join(_rec_text(r) for r in q) or "the retrain queue is empty")


def cmd_history(args) -> int:
    from engine import retrain

    h = retrain.history(limit=args.limit)
    return _out(args, [r.to_dict() for r in h],
                "\n".join(_rec_text(r) for r in h) or "no retrains yet")


def cmd_policy(args) -> int:
    from engine import retrain
    from engine.errors import ParameterError

    if args.reset:
        retrain.reset_policy()
    if args.set:
        changes = {}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep:
                raise ParameterError(f"--set {item!r} must look like KEY=VALUE, e.g. "
                                     "accuracy_threshold=0.05")
            changes[key.strip()] = value.strip()
        retrain.save_policy(changes)
    p = retrain.get_policy().to_dict()
    return _out(args, p, "\n".join(f"{k} = {v}  ({retrain.POLICY_ENV[k]})"
                                   for k, v in p.items()))
