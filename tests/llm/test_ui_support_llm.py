"""Analyst behaviour the AI Analyst page relies on (issue 10): a dataset too short for the
indicators is refused with the reason (screen and analyze alike), the screen says as of when
each symbol was read, and an offline consensus says when members ran the same rules."""

from __future__ import annotations

import pytest

from engine.errors import ParameterError
from engine.llm import analyze, screen
from engine.llm.consensus import offline_duplicates
from engine.market import load_dataset


def test_a_37_bar_dataset_is_refused_by_analyze_naming_the_indicator():
    short = load_dataset("SYN-TREND").head(37)
    # 37 bars: SMA-50 has no value yet (it needs 50), so there is nothing honest to say
    with pytest.raises(ParameterError, match=r"only 37 bars .* too few for sma50 "
                                             r"\(needs 50 bars\)"):
        analyze("SYN-TREND", provider="offline", df=short, record=False)


def test_screen_refuses_the_short_dataset_and_ranks_the_others_with_their_as_of():
    full = load_dataset("SYN-RANGE")
    rows = screen(["SHORT", "SYN-RANGE"], provider="offline", record=False,
                  frames={"SHORT": load_dataset("SYN-TREND").head(37), "SYN-RANGE": full})
    by = {r["symbol"]: r for r in rows}
    assert by["SHORT"]["decision"] is None and by["SHORT"]["confidence"] is None
    assert "too few for sma50 (needs 50 bars)" in by["SHORT"]["error"]
    # the as-of of a screened symbol is its last bar (datasets end on different dates)
    assert by["SYN-RANGE"]["as_of"] == full["timestamp"][-1].isoformat()


def test_offline_consensus_says_that_two_members_ran_the_same_rules():
    # prompts.yaml: master_analyst on sonnet, momentum_catalyst on haiku, master_analyst on
    # haiku — offline, the two master_analyst members are the same rules
    doc = analyze("SYN-TREND", provider="offline", consensus=True, record=False)
    c = doc["consensus"]
    assert c["n_models"] == 3 and c["distinct"] == 2
    assert "offline: 3 members but 2 distinct rule sets (master_analyst ×2" in c["note"]


def test_offline_duplicates_is_silent_when_every_prompt_differs():
    assert offline_duplicates(["a", "b", "c"]) == (3, "")
    assert offline_duplicates(["a", "a", "a"])[0] == 1
