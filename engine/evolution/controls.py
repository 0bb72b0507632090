"""The run-control state machine: which of evolve / resume / pause / stop a run accepts.

One table, two readers: :mod:`engine.evolution.jobs` enforces it (every control refuses a run
the table does not accept, with a message naming the statuses that would do), and
:class:`engine.evolution.info.RunInfo` exposes it as ``can_evolve``/``can_resume``/
``can_pause``/``can_stop`` so a page enables exactly the buttons the engine would honour
instead of keeping its own copy of the rules (the copies had drifted apart).

A rule is a set of statuses, optionally refused while a given request is already pending,
plus extra ``(status, pending request)`` pairs it also accepts. ``stopping`` is a running run
with a stop pending, so nothing but waiting applies to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.errors import StratLabError

Action = Literal["evolve", "resume", "pause", "stop"]

#: Statuses with no process working on the run (``running``/``stopping`` are the others).
IDLE = ("created", "paused", "stopped", "completed", "interrupted", "failed")


@dataclass(frozen=True)
class Rule:
    """Where an action is accepted from (see the module docstring)."""

    statuses: tuple[str, ...]
    refused_while: str | None = None
    also: tuple[tuple[str, str], ...] = ()

    def accepts(self, status: str, requested: str | None) -> bool:
        if (status, requested) in self.also:
            return True
        return status in self.statuses and not (
            self.refused_while is not None and requested == self.refused_while)

    def describe(self) -> str:
        parts = [" or ".join(self.statuses)]
        if self.refused_while:
            parts[0] += f" (without a {self.refused_while} already requested)"
        parts += [f"{s} with a {r} requested" for s, r in self.also]
        return ", or ".join(parts)


TRANSITIONS: dict[str, Rule] = {
    # evolve more generations (or to the target): anything nobody is working on
    "evolve": Rule(IDLE),
    # carry on where it left off; on a running run, cancel a pause not yet honoured
    "resume": Rule(("paused", "interrupted", "stopped", "failed"), also=(("running", "pause"),)),
    # pause after the generation in flight; a created run's queued job pauses before it starts
    "pause": Rule(("created", "running"), refused_while="pause"),
    # running: after the generation in flight (status "stopping"); an idle run: at once
    "stop": Rule(("created", "running", "paused", "interrupted")),
}


def job_id(run_id: int) -> str:
    """The scheduler job that evolves a run (evolve and resume queue it; one per run)."""
    return f"evolution-{run_id}"


def accepts(action: Action, status: str, requested: str | None) -> bool:
    """Whether ``action`` is accepted on a run with this status and pending request."""
    return TRANSITIONS[action].accepts(status, requested)


def require(action: Action, run_id: int, status: str, requested: str | None) -> None:
    """Raise a :class:`StratLabError` naming the statuses ``action`` needs, if refused."""
    if accepts(action, status, requested):
        return
    pending = f" with a {requested} requested" if requested else ""
    raise StratLabError(
        f"cannot {action} evolution run {run_id}: it is {status}{pending}; {action} needs "
        f"a run that is {TRANSITIONS[action].describe()} (see `python -m engine evolution "
        "list` or the Evolution page)"
    )
