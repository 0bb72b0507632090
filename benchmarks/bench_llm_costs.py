"""Cost of the seed's LLM day, naive vs this engine — priced from prompts/prompts.yaml.

    python benchmarks/bench_llm_costs.py [--json]

The seed's day (its "Estimated Daily Costs" table): 1,000 screenings of 2K tokens on the
screening tier, 50 analyses of 5K on the analysis tier, 5 deep analyses of 8K on the deep
tier. Token splits (stated, the same in both columns): screening 1,700 in / 300 out,
analysis 4,200 / 800, deep 6,800 / 1,200.

**Naive** (as the seed's table): every query sent interactively at full price to its tier's
model; no response cache, no prompt caching, no batching, no escalation.

**This engine**, with these stated assumptions (edit ASSUMPTIONS to try others):

- *Response cache* (5-minute TTL, bucketed context): 20 % of screenings and 10 % of analyses
  repeat a similar query within the TTL (a watch list re-screened intraday, a symbol
  re-opened) and cost nothing; deep analyses never hit.
- *Message Batches* (half price): the screening funnel runs as a batch screen
  (``screen --batch``: each tier one batch), so every screening and the analyses it
  escalates are batched; 1 in 4 analyses and every deep one are interactive (the user on
  the AI Analyst page) and pay full price.
- *Escalation* by importance: of the 50 analysis-tier candidates, 40 % are not important
  enough (screening HOLD or confidence < 55) and stay on the screening tier; of the 5 deep
  candidates, 2 are important or contested enough for the deep tier, 3 stay on the analysis
  tier.
- *Prompt caching* on the static prefix (system prompt, instructions, JSON schema): 40 % of
  the input of analysis and deep calls, read from the cache on 80 % of interactive calls
  and written on 20 %; batched calls are not counted as cache hits (conservative).

It prints both totals, the breakdown and the ratio (target: at most 40 % of naive).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.llm.costs import Usage, price  # noqa: E402
from engine.llm.prompts import ModelSpec, load_config  # noqa: E402

WORKLOAD = {  # tier: (queries per day, input tokens, output tokens)
    "screening": (1000, 1700, 300),
    "analysis": (50, 4200, 800),
    "deep": (5, 6800, 1200),
}
ASSUMPTIONS = {
    "response_cache_hit": {"screening": 0.20, "analysis": 0.10, "deep": 0.0},
    "batched_share": {"screening": 1.0, "analysis": 0.75, "deep": 0.0},
    # where the work of each tier runs after escalation: tier -> {model tier: share}
    "escalation": {"screening": {"screening": 1.0},
                   "analysis": {"screening": 0.4, "analysis": 0.6},
                   "deep": {"deep": 0.4, "analysis": 0.6}},
    "static_prefix_share": {"screening": 0.0, "analysis": 0.4, "deep": 0.4},
    "prompt_cache_read_rate": 0.8,
}


@dataclass
class Line:
    tier: str
    model: str
    calls: float
    cost: float


def call_cost(spec: ModelSpec, n_in: int, n_out: int, *, static_share: float,
              read_rate: float, batch: bool, discount: float) -> float:
    """Expected cost of one call: the static prefix is read from / written to the prompt
    cache (interactive calls only), the rest at the input price."""
    if batch or static_share <= 0:
        return price(spec, Usage(n_in, n_out), batch=batch, batch_discount=discount)
    static = int(n_in * static_share)
    hit = price(spec, Usage(n_in - static, n_out, 0, static))
    miss = price(spec, Usage(n_in - static, n_out, static, 0))
    return read_rate * hit + (1 - read_rate) * miss


def naive(cfg) -> list[Line]:
    out = []
    for tier, (n, i, o) in WORKLOAD.items():
        spec = cfg.model_for_tier(tier)
        out.append(Line(tier, spec.id, n, n * price(spec, Usage(i, o))))
    return out


def engine(cfg, a=ASSUMPTIONS) -> list[Line]:
    disc = cfg.cost_management.batch_discount
    out = []
    for tier, (n, i, o) in WORKLOAD.items():
        sent = n * (1 - a["response_cache_hit"][tier])
        for run_tier, share in a["escalation"][tier].items():
            spec = cfg.model_for_tier(run_tier)
            calls = sent * share
            b = a["batched_share"][tier]
            kw = {"static_share": a["static_prefix_share"][tier],
                  "read_rate": a["prompt_cache_read_rate"], "discount": disc}
            cost = calls * (b * call_cost(spec, i, o, batch=True, **kw)
                            + (1 - b) * call_cost(spec, i, o, batch=False, **kw))
            out.append(Line(tier, spec.id, calls, cost))
    return out


def main(argv: list[str]) -> int:
    cfg = load_config()
    n, e = naive(cfg), engine(cfg)
    tn, te = sum(x.cost for x in n), sum(x.cost for x in e)
    ratio = te / tn
    if "--json" in argv:
        print(json.dumps({"naive_usd": tn, "engine_usd": te, "ratio": ratio,
                          "assumptions": ASSUMPTIONS,
                          "naive": [x.__dict__ for x in n], "engine": [x.__dict__ for x in e]}))
        return 0
    print("The seed's LLM day, priced from prompts/prompts.yaml\n")
    print("naive (interactive, full price, no cache):")
    for x in n:
        print(f"  {x.tier:<10} {x.calls:>7.0f} calls on {x.model:<18} ${x.cost:8.4f}")
    print(f"  {'total':<10} {'':>33} ${tn:8.4f}\n")
    print("this engine (response cache, prompt caching, batches, escalation):")
    for x in e:
        print(f"  {x.tier:<10} {x.calls:>7.1f} calls on {x.model:<18} ${x.cost:8.4f}")
    print(f"  {'total':<10} {'':>33} ${te:8.4f}\n")
    print(f"engine / naive = {ratio:.1%}  (target <= 40 %)")
    print("\nsensitivity (engine / naive):")
    for hit in (0.0, 0.2, 0.4):
        a = {**ASSUMPTIONS, "response_cache_hit": {"screening": hit, "analysis": hit / 2,
                                                   "deep": 0.0}}
        print(f"  response-cache hit rate {hit:.0%} screening / {hit / 2:.0%} analysis: "
              f"{sum(x.cost for x in engine(cfg, a)) / tn:.1%}")
    no_esc = {**ASSUMPTIONS, "escalation": {t: {t: 1.0} for t in WORKLOAD}}
    print(f"  without escalation: {sum(x.cost for x in engine(cfg, no_esc)) / tn:.1%}")
    no_batch = {**ASSUMPTIONS, "batched_share": {t: 0.0 for t in WORKLOAD}}
    print(f"  without batches: {sum(x.cost for x in engine(cfg, no_batch)) / tn:.1%}")
    print("assumptions: response-cache hits 20 % screening / 10 % analysis; screening funnel "
          "batched (75 % of analyses); escalation keeps 40 % of analyses on the screening "
          "tier and sends 2 of 5 deep to the deep tier; 40 % static prefix read from the "
          "prompt cache on 80 % of interactive calls")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
