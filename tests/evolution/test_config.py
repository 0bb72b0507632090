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
    assert c.backend == "auto" and c.oos_fraction == 0.3 and c.fitness == "sharpe_score"


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


def test_explicit_arguments_override_the_environment(monkeypatch):
    monkeypatch.setenv("POPULATION_SIZE", "30")
    monkeypatch.setenv("ELITE_SIZE", "2")
    c = EvolutionConfig(symbols=["X"], population_size=12)
    assert (c.population_size, c.elite_size) == (12, 2)


@pytest.mark.parametrize("kw, needle", [
    ({"population_size": "50.0"}, "population_size: must be a whole number"),
    ({"population_size": 50.0}, "population_size: must be a whole number"),
    ({"generations": True}, "generations: must be a whole number"),
    ({"mutation_rate": float("nan")}, "mutation_rate: must be a finite number"),
    ({"crossover_rate": "inf"}, "crossover_rate: must be a finite number"),
    ({"fitness_threshold": "nan"}, "fitness_threshold: must be a finite number"),
    ({"fitness_threshold": float("inf")}, "use none to turn it off"),
])
def test_arguments_pass_the_same_number_rule_as_the_environment(kw, needle):
    # the same field types as engine.config.EvolutionSettings: 50.0 is not a whole number,
    # nan/inf are refused (use "none" to turn the early stop off)
    with pytest.raises(ParameterError, match=needle):
        EvolutionConfig(symbols=["X"], **kw)


def test_environment_and_argument_errors_agree(monkeypatch):
    monkeypatch.setenv("POPULATION_SIZE", "50.0")
    with pytest.raises(ParameterError, match=r"^POPULATION_SIZE=50\.0 is not valid: must be a "
                                             r"whole number ≥ 4 \(written without a decimal "
                                             r"point\); set POPULATION_SIZE to"):
        EvolutionConfig(symbols=["X"])
    monkeypatch.setenv("POPULATION_SIZE", "50")
    assert EvolutionConfig(symbols=["X"], population_size="40").population_size == 40


def test_threshold_none_and_ray_address(monkeypatch):
    assert EvolutionConfig(symbols=["X"], fitness_threshold="none").fitness_threshold is None
    assert EvolutionConfig(symbols=["X"], fitness_threshold=-1.5).fitness_threshold == -1.5
    monkeypatch.setenv("STRATLAB_RAY_ADDRESS", "auto")
    assert EvolutionConfig(symbols=["X"]).backend == "ray"
    assert EvolutionConfig(symbols=["X"], backend="inline").backend == "inline"
