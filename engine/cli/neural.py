"""``train``: train a neural model (LSTM or Transformer) on a dataset, print its results.

``train --json`` prints ``{"version_id", "model_type", "device", "epochs_run", "seconds",
"samples_per_second", "file_hash", "metrics": {"accuracy", "baseline_accuracy",
"majority_accuracy", "per_class", "confusion_matrix", "val_loss", "test_loss", …},
"backtest": {metrics as in backtest}, "baseline_backtest", "buy_hold_return_pct", …}``;
``--full`` adds the test-period ``predictions`` and ``equity`` curves. ``--progress-run ID``
(used by the app's background job) runs a recorded training run, writing per-epoch rows.
"""

from __future__ import annotations

import sys

from engine.cli import args as types
from engine.errors import ParameterError

BULKY = ("predictions", "equity")


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a neural model (lstm or transformer)")
    p.add_argument("--data", default=None, help="dataset symbol (see `data list`)")
    p.add_argument("--model", default=None, choices=["lstm", "transformer"])
    p.add_argument("--epochs", type=types.bounded_int(1, 10_000, 50),
                   default=None, help="most epochs (env EPOCHS, 50)")
    p.add_argument("--horizon", type=types.bounded_int(1, 250, 5),
                   default=5, help="label horizon in bars (5)")
    p.add_argument("--threshold", type=types.bounded_float(0, 1, hi_open=True, example="0.01"),
                   default=0.01,
                   help="label threshold as a fraction (0.01 = 1%%)")
    p.add_argument("--batch-size", type=types.bounded_int(1, 65_536, 32),
                   default=None, help="env BATCH_SIZE, 32")
    p.add_argument("--lr", type=types.bounded_float(0, 1, lo_open=True, example="0.001"),
                   default=None, help="env LEARNING_RATE, 0.001")
    p.add_argument("--seq-len", type=types.bounded_int(2, 1024, 60),
                   default=None, help="env SEQUENCE_LENGTH, 60")
    p.add_argument("--seed", type=types.seed, default=42)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--patience", type=types.bounded_int(1, 10_000, 5),
                   default=5, help="early-stopping patience")
    p.add_argument("--grad-accum", type=types.bounded_int(1, 1024, 1),
                   default=1, help="gradient accumulation steps")
    p.add_argument("--val-fraction", type=types.holdout_fraction, default=0.15)
    p.add_argument("--test-fraction", type=types.holdout_fraction, default=0.15)
    p.add_argument("--start", default=None, metavar="DATE", help="first bar (inclusive)")
    p.add_argument("--end", default=None, metavar="DATE", help="last bar (inclusive)")
    p.add_argument("--prob-threshold", type=types.fraction, default=0.0,
                   help="act on Buy/Sell only at this probability or more")
    p.add_argument("--commission", type=types.commission, default=0.0,
                   help="backtest commission, fraction per side")
    p.add_argument("--hidden", type=types.bounded_int(1, 8192, 128),
                   default=None, help="LSTM hidden size (128)")
    p.add_argument("--layers", type=types.bounded_int(1, 32, 3), default=None,
                   help="layers (3 for lstm, 4 for transformer)")
    p.add_argument("--d-model", type=types.bounded_int(2, 8192, 128),
                   default=None, help="Transformer d_model (128)")
    p.add_argument("--heads", type=types.bounded_int(1, 256, 8),
                   default=None, help="Transformer heads (8)")
    p.add_argument("--ff", type=types.bounded_int(1, 65_536, 256),
                   default=None, help="Transformer feed-forward size (256)")
    p.add_argument("--threads", type=types.bounded_int(1, 1024, 4), default=None,
                   help="CPU threads for torch (default: all cores but one)")
    p.add_argument("--no-register", action="store_true",
                   help="write the model file but create no registry version")
    p.add_argument("--progress-run", type=types.record_id, default=None, metavar="ID",
                   help="run the recorded training run ID (the app's background job)")
    p.add_argument("--full", action="store_true",
                   help="with --json: include test-period predictions and equity curves")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_train)


def config_from_args(args):
    from engine.neural.config import make_config

    if not args.data or not args.model:
        raise ParameterError("train needs --data SYMBOL and --model lstm|transformer")
    opt = {"epochs": args.epochs, "batch_size": args.batch_size,
           "learning_rate": args.lr, "sequence_length": args.seq_len,
           "hidden_size": args.hidden, "num_layers": args.layers, "d_model": args.d_model,
           "nhead": args.heads, "dim_feedforward": args.ff}
    return make_config(
        symbol=args.data, model_type=args.model, horizon=args.horizon,
        threshold=args.threshold, seed=args.seed, device=args.device, patience=args.patience,
        grad_accum_steps=args.grad_accum, val_fraction=args.val_fraction,
        test_fraction=args.test_fraction, start=args.start, end=args.end,
        prob_threshold=args.prob_threshold, commission=args.commission,
        **{k: v for k, v in opt.items() if v is not None},
    )


def cmd_train(args) -> int:
    from engine.cli import print_json, stderr_progress
    from engine.maintenance import clean_orphans_quietly
    from engine.neural.training import set_torch_threads
    from engine.registry import train_version  # trains, then registers the file

    clean_orphans_quietly()  # files a killed run left behind (engine.maintenance)
    set_torch_threads(args.threads)
    if args.progress_run is not None:
        from engine.neural.jobs import execute_run

        result = execute_run(args.progress_run, train=train_version)
    else:
        cfg = config_from_args(args)
        def progress(rec):  # one updating line per epoch on a terminal
            stderr_progress(rec["epoch"], cfg.epochs,
                            f"loss {rec['train_loss']:.4f} val {rec['val_loss']:.4f} "
                            f"acc {rec['val_acc']:.3f}")

        show = not args.json and sys.stderr.isatty()
        result = train_version(cfg, on_epoch=progress if show else None,
                               register=not args.no_register)
    doc = result.to_dict()
    if not args.full:
        for k in BULKY:
            doc.pop(k, None)
    if args.json:
        print_json(doc)
    else:
        m = doc["metrics"]
        print(f"{doc['model_type']} on {doc['config']['symbol']}: version "
              f"{doc['version_id'] or '(not registered)'} · {doc['device']} · "
              f"{doc['epochs_run']} epochs in {doc['seconds']:.1f}s "
              f"({doc['samples_per_second']:,.0f} samples/s)")
        print(f"test accuracy {m['accuracy']:.3f} · logistic baseline "
              f"{m['baseline_accuracy']:.3f} · majority ({m['majority_class']}) "
              f"{m['majority_accuracy']:.3f}")
        print(f"return {doc['backtest']['total_return_pct']:.2f}% · baseline "
              f"{doc['baseline_backtest']['total_return_pct']:.2f}% · buy & hold "
              f"{doc['buy_hold_return_pct']:.2f}%")
        print(f"file {doc['file_path']} (sha256 {doc['file_hash'][:12]}…)")
    return 0
