"""EvolutionConfig: seed defaults, environment overrides, one-line errors naming the fix."""

from __future__ import annotations

import pytest

from engine.errors import ParameterError
from engine.evolution import EvolutionConfig


def test_seed_defaults(monkeypatch):
    for v in ("POPULATION_SIZE", "MUTATION_RATE", "CROSSOVER_RATE", "ELITE_SIZE",
              "MAX_GENERATIONS", "FITNESS_THRESHOLD", "STRATLAB_RAY_ADDRESS"):
        monkeypatch.delenv(v, raising=False)
    c = EvolutionConfig(symbols=["X"])
    assert (c.population_size, c.mutation_rate, c.crossover_rate, c.elite_size,
            c.generations, c.fitness_threshold) == (50, 0.1, 0.8, 5, 100, 0.8)
    assert c.backend == "process" and c.oos_fraction == 0.3 and c.fitness == "sharpe_score"


def test_environment_overrides_at_creation(monkeypatch):
    monkeypatch.setenv("POPULATION_SIZE", "30")
    monkeypatch.setenv("MUTATION_RATE", "0.2")
    monkeypatch.setenv("FITNESS_THRESHOLD", "none")
    monkeypatch.setenv("MAX_GENERATIONS", "7")
    c = EvolutionConfig(symbols="A,B")
    assert (c.population_size, c.mutation_rate, c.fitness_threshold, c.generations) == (
        30, 0.2, None, 7)
    assert c.symbols == ["A", "B"]


@pytest.mark.parametrize("kw, field", [
    ({"population_size": 3}, "population_size"),
    ({"mutation_rate": 1.5}, "mutation_rate"),
    ({"elite_size": 50, "population_size": 20}, "elite_size"),
    ({"oos_fraction": 0.99}, "oos_fraction"),
    ({"backend": "gpu"}, "backend"),
    ({"objectives": ["sharpe", "nope"]}, "objectives"),
    ({"unknown_field": 1}, "unknown_field"),
])
def test_errors_name_the_field(kw, field):
    with pytest.raises(ParameterError) as e:
        EvolutionConfig(symbols=["X"], **kw)
    assert field in str(e.value) and "\n" not in str(e.value)


def test_bad_environment_value(monkeypatch):
    monkeypatch.setenv("POPULATION_SIZE", "many")
    with pytest.raises(ParameterError, match="POPULATION_SIZE"):
        EvolutionConfig(symbols=["X"])
