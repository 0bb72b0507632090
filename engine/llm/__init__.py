"""LLM market intelligence: Claude (or the offline analyst) analyses symbols, reaches a
consensus, and every call is costed, capped, cached and later scored.

One module per concept: ``prompts`` (prompts.yaml), ``schema`` (the decision JSON),
``context`` (market snapshot), ``client`` (the SDK client and rate limiter), ``sdk`` (capped
retry waits), ``breaker`` (circuit breakers in the database), ``replies`` (parsing and
validation), ``redaction`` (API keys), ``usage`` (token counts, prices, bounds, anomalies),
``costs`` (reserve/settle budget, acknowledgement), ``cache`` (response cache, prompt
caching), ``batch`` (Message Batches), ``offline`` (rule analyst), ``consensus``,
``escalation``, ``tracking`` (decisions, outcomes, accuracy), ``runner`` (providers),
``analysis`` / ``screen`` / ``replay`` (re-exported by ``analyst``), the look-ahead controls
``lookahead`` (training cutoffs), ``blind`` (blind snapshots), ``scorecard`` (cutoff sides,
control arms, named vs blind) and ``uncertainty`` (intervals and paired tests), ``tables``.
The anthropic SDK is imported only when a Claude client is created.
"""

from engine.llm.analyst import analyze, estimate_replay, replay, screen
from engine.llm.client import breaker_states
from engine.llm.costs import (
    AnomalyPending,
    BudgetExceeded,
    acknowledge_anomalies,
    cost_summary,
    pending_anomalies,
)
from engine.llm.prompts import LLMConfigError, load_config
from engine.llm.tracking import accuracy_report, ensure_llm_jobs, fill_outcomes

__all__ = ["AnomalyPending", "BudgetExceeded", "LLMConfigError", "accuracy_report",
           "acknowledge_anomalies", "analyze", "breaker_states", "cost_summary",
           "ensure_llm_jobs", "estimate_replay", "fill_outcomes", "load_config",
           "pending_anomalies", "replay", "screen"]
