"""Neural Models: train an LSTM or Transformer in the background, watch it learn, and read its
test-period result against a logistic-regression baseline, the majority class and
buy-and-hold.

Training runs as a scheduler job in a subprocess (``engine.neural.start_training_job``);
this page only reads the ``training_runs`` / ``training_epochs`` rows, polling them in an
``st.fragment(run_every=…)`` while a run is active. Widget keys start with ``nn_``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import polars as pl
import streamlit as st

from engine.errors import StratLabError
from engine.neural import (
    FEATURE_NAMES,
    get_training_run,
    list_training_runs,
    make_config,
    start_training_job,
)
from engine.neural.jobs import request_stop
from ui import components
from ui import neural_charts as nc
from ui.formatting import fmt_pct
from ui.state import active_dataset, ensure
from ui.tables import readable

ss = st.session_state
POLL_SECONDS = 2.0
SIZES = {
    "Seed sizes": {},  # LSTM 128×3, Transformer d128 / 8 heads / 4 layers
    "Small (fast, for trying out)": {"hidden_size": 32, "num_layers": 1, "d_model": 32,
                                     "nhead": 4, "dim_feedforward": 64},
}
DEFAULTS: dict[str, Any] = {
    "nn_model": "lstm", "nn_horizon": 5, "nn_threshold_pct": 1.0, "nn_epochs": 50,
    "nn_batch": 32, "nn_lr": 0.001, "nn_size": "Seed sizes", "nn_seq": 60, "nn_seed": 42,
    "nn_patience": 5, "nn_prob_pct": 0.0, "nn_device": "auto", "nn_accum": 1,
    "nn_commission_pct": 0.1, "nn_run_id": None,
}
NOTICE = "nn_notice"


# ------------------------------------------------------------------------------ callbacks

def _config_from_widgets() -> Any:
    return make_config(
        symbol=ss["nn_dataset"], model_type=ss["nn_model"], horizon=int(ss["nn_horizon"]),
        threshold=round(ss["nn_threshold_pct"] / 100.0, 10), epochs=int(ss["nn_epochs"]),
        batch_size=int(ss["nn_batch"]), learning_rate=float(ss["nn_lr"]),
        sequence_length=int(ss["nn_seq"]), seed=int(ss["nn_seed"]),
        patience=int(ss["nn_patience"]), device=ss["nn_device"],
        grad_accum_steps=int(ss["nn_accum"]),
        prob_threshold=round(ss["nn_prob_pct"] / 100.0, 10),
        commission=round(ss["nn_commission_pct"] / 100.0, 10),
        **SIZES[ss["nn_size"]],
    )


def _start_training() -> None:
    """Train button: validate the setup, start the background job, follow its run."""
    cfg = components.call_engine(NOTICE, _config_from_widgets)  # bad settings: one line
    if cfg is None:
        return
    job_id = components.call_engine(
        NOTICE, start_training_job, cfg,
        ok=lambda job: f"Training started in the background ({job}); you can leave this "
                       "page and come back.")
    if job_id is not None:
        ss["nn_run_id"] = int(job_id.removeprefix("training-"))


def _stop(run_id: int) -> None:
    components.call_engine(NOTICE, request_stop, run_id)


# ---------------------------------------------------------------------------------- setup

def setup(infos) -> None:
    symbols = [i.symbol for i in infos]
    by_symbol = {i.symbol: i for i in infos}
    # follow the sidebar's active dataset whenever it changes; a pick here stays until then
    active = active_dataset()
    active = active if active in by_symbol else symbols[0]
    if ss.get("nn_dataset") not in by_symbol or ss.get("nn_dataset_follows") != active:
        ss["nn_dataset"] = active
        ss["nn_dataset_follows"] = active
    c = st.columns(4)
    c[0].selectbox("Dataset", symbols, key="nn_dataset",
                   format_func=lambda s: components.dataset_label(by_symbol[s]))
    c[1].selectbox("Model", ["lstm", "transformer"], key="nn_model",
                   format_func=lambda m: {"lstm": "LSTM", "transformer": "Transformer"}[m])
    c[2].number_input("Horizon (bars)", 1, 250, step=1, key="nn_horizon",
                      help="Label = the return from this close to the close this many bars "
                           "ahead.")
    c[3].number_input("Label threshold %", 0.0, 50.0, step=0.25, format="%.2f",
                      key="nn_threshold_pct",
                      help="Buy above +threshold, Sell below −threshold, Hold between.")
    c = st.columns(4)
    c[0].number_input("Epochs", 1, 1000, step=1, key="nn_epochs",
                      help="At most; early stopping on the validation loss ends sooner.")
    c[1].selectbox("Batch size", [8, 16, 32, 64, 128, 256], key="nn_batch")
    c[2].number_input("Learning rate", 1e-5, 0.1, step=0.0005, format="%.4f", key="nn_lr")
    c[3].selectbox("Model size", list(SIZES), key="nn_size",
                   help="Seed sizes: LSTM hidden 128 × 3 layers; Transformer d_model 128, "
                        "8 heads, 4 layers. Small trains in seconds on a CPU.")
    with st.expander("More settings"):
        c = st.columns(4)
        c[0].number_input("Window (bars)", 5, 512, step=5, key="nn_seq",
                          help="Sequence length: bars the model sees per prediction.")
        c[1].number_input("Seed", 0, 2**31 - 1, step=1, key="nn_seed",
                          help="Same seed, data and settings → the same model on the CPU.")
        c[2].number_input("Early-stopping patience", 1, 100, step=1, key="nn_patience")
        c[3].number_input("Gradient accumulation", 1, 64, step=1, key="nn_accum",
                          help="Micro-batches per optimiser step.")
        c = st.columns(4)
        c[0].selectbox("Device", ["auto", "cpu", "cuda"], key="nn_device",
                       help="auto: the CUDA GPU when there is one (mixed precision), else CPU.")
        c[1].number_input("Min. probability to act %", 0.0, 100.0, step=5.0,
                          key="nn_prob_pct",
                          help="The strategy acts on a Buy/Sell prediction only at this "
                               "probability or more (0 = always).")
        c[2].number_input("Commission %", 0.0, 5.0, step=0.01, format="%.3f",
                          key="nn_commission_pct", help="Of traded value, per side.")
        st.caption("Features (10, past bars only): " + ", ".join(FEATURE_NAMES) +
                   ". Split: train / validation / test in time order (70/15/15) with a gap "
                   "of the horizon between parts; scaler fitted on train only.")
    info = by_symbol[ss["nn_dataset"]]
    if info.synthetic:
        st.caption(f":orange[{info.symbol} is synthetic data — not a real market.]")


# -------------------------------------------------------------------------------- results

def show_result(res: dict) -> None:
    m, bt, base = res["metrics"], res["backtest"], res["baseline_backtest"]
    name = {"lstm": "LSTM", "transformer": "Transformer"}[res["model_type"]]
    st.markdown(f"**{name}** on **{res['config']['symbol']}** · version "
                f"`{res['version_id'] or 'not registered'}` · {res['device']}"
                f"{' (mixed precision)' if res.get('amp') else ''} · "
                f"{res['epochs_run']} epochs (best {res['best_epoch']}) in "
                f"{res['seconds']:.1f} s · {res['samples_per_second'] or 0:,.0f} samples/s")
    dates = res["split"].get("test_dates") or ["?", "?"]
    st.caption(f"Test period {dates[0][:10]} → {dates[1][:10]} "
               f"({res['split']['sizes']['test']} labelled bars) · file sha256 "
               f"`{res['file_hash'][:16]}…`")
    def pct(v: Any) -> str:  # accuracies are shares of 1
        return fmt_pct(v, fraction=True, digits=1)

    cards = [("Test accuracy", pct(m["accuracy"])),
             ("Logistic baseline", pct(m["baseline_accuracy"])),
             (f"Majority ({m['majority_class']})", pct(m["majority_accuracy"])),
             ("Model return", components.fmt(bt["total_return_pct"], "pct")),
             ("Baseline return", components.fmt(base["total_return_pct"], "pct")),
             ("Buy & hold", components.fmt(res["buy_hold_return_pct"], "pct")),
             ("Sharpe", components.fmt(bt["sharpe"])),
             ("Max drawdown", components.fmt(bt["max_drawdown_pct"], "pct")),
             ("Trades", components.fmt(bt["n_trades"], "int")),
             ("Samples/s", f"{res['samples_per_second'] or 0:,.0f}")]
    for row in (cards[:5], cards[5:]):
        for col, (label, value) in zip(st.columns(5), row, strict=True):
            col.metric(label, value)
    if m["accuracy"] is not None and m["baseline_accuracy"] is not None and \
            m["accuracy"] <= m["baseline_accuracy"]:
        st.info("The logistic-regression baseline is at least as accurate as the neural "
                "model on this test period — common on market data.")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Per class (test period)**")
        rows = []
        for cls in ("sell", "hold", "buy"):
            pc, bc = m["per_class"][cls], m["baseline"]["per_class"][cls]
            rows.append({"class": cls, "precision %": _pct100(pc["precision"]),
                         "recall %": _pct100(pc["recall"]), "f1 %": _pct100(pc["f1"]),
                         "support": pc["support"],
                         "baseline precision %": _pct100(bc["precision"]),
                         "baseline recall %": _pct100(bc["recall"])})
        st.dataframe(readable(pl.DataFrame(rows, schema_overrides={
            k: pl.Float64 for k in ("precision %", "recall %", "f1 %", "baseline precision %",
                                    "baseline recall %")}), default_digits=1),
            hide_index=True,
            column_config={k: st.column_config.NumberColumn(format="%.1f") for k in
                           ("precision %", "recall %", "f1 %", "baseline precision %",
                            "baseline recall %")})
        st.caption("— = undefined: a class never predicted has no precision.")
        st.caption(f"Loss: validation {components.fmt(m.get('val_loss'))} (best epoch) · "
                   f"test {components.fmt(m.get('test_loss'))} (class-weighted "
                   "cross-entropy)")
    with right:
        st.plotly_chart(nc.confusion_chart(m["confusion_matrix"]), key="nn_confusion",
                        config={"displaylogo": False})
    st.plotly_chart(nc.predictions_chart(res["predictions"]), key="nn_pred_chart",
                    config={"displaylogo": False})
    st.plotly_chart(nc.equity_chart(res["equity"], name), key="nn_equity_chart",
                    config={"displaylogo": False})
    with st.expander("Backtest metrics: model vs baseline"):
        keys = [k for k in bt if k != "periods_per_year"]
        st.dataframe(readable(pl.DataFrame({"metric": keys,
                                            "model": [bt[k] for k in keys],
                                            "logistic baseline": [base.get(k) for k in keys]},
                                           schema_overrides={"model": pl.Float64,
                                                             "logistic baseline": pl.Float64}),
                              default_digits=4), hide_index=True)


# ------------------------------------------------------------------------- live progress

def _pct100(v: Any) -> float | None:
    """A share of 1 as a percent number for a table (one convention across the app)."""
    return None if v is None else round(100 * v, 2)


def progress_panel(run_id: int, shown_status: str | None = None) -> None:
    """The run's live progress (the fragment). ``shown_status`` is the status the page's
    run picker was drawn with: when the run has moved on (queued → running → completed),
    the whole page is drawn again so the picker's label never says "queued" after
    "Completed"."""
    try:
        run = get_training_run(run_id)
    except StratLabError as exc:
        st.error(str(exc))
        return
    total = max(run.epochs_total, 1)
    label = {"queued": "Queued…", "running": "Training…", "completed": "Completed",
             "stopped": "Stopped early on request", "failed": "Failed",
             "interrupted": "Interrupted (the process ended)"}.get(run.status, run.status)
    st.markdown(f"**Run #{run.id}** · {run.model_type} on {run.symbol} · {label}")
    st.progress(min(1.0, run.epochs_done / total),
                text=f"epoch {run.epochs_done} / {run.epochs_total}"
                     + (f" · device {run.device}" if run.device else "")
                     + (f" · {run.samples_per_second:,.0f} samples/s"
                        if run.samples_per_second else ""))
    if run.active:
        st.button("Stop after this epoch", key="nn_stop_btn", on_click=_stop,
                  args=(run.id,), disabled=run.requested_action == "stop")
    if run.status in ("failed", "interrupted") and run.error:
        st.error(run.error)
    if run.epochs:
        st.plotly_chart(nc.history_chart(run.epochs), key="nn_history_chart",
                        config={"displaylogo": False})
    was_active = ss.get("nn_polling") == run.id
    ss["nn_polling"] = run.id if run.active else None
    if (was_active and not run.active) or (shown_status is not None
                                           and run.status != shown_status):
        st.rerun()  # draw the results, and the picker's label, with the whole page


# ----------------------------------------------------------------------------------- page

for key, value in DEFAULTS.items():
    ensure(key, value)
st.title("Neural Models")
st.caption("LSTM and Transformer models that label each bar Buy / Hold / Sell from 10 "
           "features of past bars. Every result is shown against a logistic-regression "
           "baseline, the majority class and buy-and-hold: simple models often do as well "
           "on market data.")
components.show_notice(NOTICE)
infos = ss.get("datasets") or []
if not infos:
    st.info("No dataset to train on: import one on **Market Data**.")
    st.stop()

with st.container(border=True):
    setup(infos)
    st.button("Train", key="nn_train_btn", type="primary", on_click=_start_training,
              help="Runs in the background (a separate process); progress appears below.")

try:
    runs = list_training_runs(50)
except StratLabError as exc:
    st.error(str(exc))
    runs = []
if not runs:
    st.caption("No training runs yet: set up a model above and press **Train**.")
    st.stop()
by_id = {r.id: r for r in runs}
if ss.get("nn_run_id") not in by_id:
    ss["nn_run_id"] = runs[0].id
# The picker's key carries every listed run's status: the browser keeps a keyed selectbox's
# drawn label even when its options' labels change, so a run that finished would still read
# "queued" there. A new status is a new widget, drawn afresh at the chosen run.
ids = list(by_id)
sig = hashlib.sha1("|".join(f"{r.id}:{r.status}" for r in runs).encode()).hexdigest()[:10]
ss["nn_run_id"] = st.selectbox(
    "Training run", ids, index=ids.index(ss["nn_run_id"]), key=f"nn_run_pick_{sig}",
    format_func=lambda i: (f"#{i} · {by_id[i].model_type} · {by_id[i].symbol} · "
                           f"{by_id[i].status} · {by_id[i].created_at:%Y-%m-%d %H:%M} UTC"))
current = by_id[ss["nn_run_id"]]
st.fragment(progress_panel, run_every=POLL_SECONDS if current.active else None)(
    current.id, current.status)

if not current.active:
    try:
        full = get_training_run(current.id)
    except StratLabError as exc:
        st.error(str(exc))
        st.stop()
    if full.result:
        show_result(full.result)
