"""engine.config: one typed configuration, one rule for numbers, errors that name the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import config
from engine.config import (
    PROJECT_ROOT,
    SECTIONS,
    ConfigError,
    NeuralSettings,
    Settings,
    get_settings,
    reset_settings,
    settings_markdown,
    settings_table,
)
from engine.errors import ParameterError

DOC = PROJECT_ROOT / "docs" / "configuration.md"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in config.ENV_NAMES:
        if name != "STRATLAB_DATA_DIR":  # the suite's conftest points it at a temp dir
            monkeypatch.delenv(name, raising=False)
    reset_settings()


def _section_of(var: str) -> str:
    return next(r["section"] for r in settings_table() if r["variable"] == var)


def _read(monkeypatch, var: str, raw: str):
    """Set ``var`` and read its value through its section of ``get_settings()``."""
    monkeypatch.setenv(var, raw)
    row = next(r for r in settings_table() if r["variable"] == var)
    return getattr(getattr(get_settings(), row["section"]), row["field"])


# ------------------------------------------------------------- one rule for numbers

WHOLE_NUMBER_VARS = ["POPULATION_SIZE", "ELITE_SIZE", "MAX_GENERATIONS", "BATCH_SIZE",
                     "EPOCHS", "SEQUENCE_LENGTH", "MIN_DATA_POINTS",
                     "RETRAIN_MIN_WINDOW_BARS", "RETRAIN_MONITOR_MINUTES",
                     "MAX_SWEEP_COMBINATIONS"]
NUMBER_VARS = ["MUTATION_RATE", "CROSSOVER_RATE", "FITNESS_THRESHOLD", "LEARNING_RATE",
               "RETRAIN_THRESHOLD", "RETRAIN_RETURN_THRESHOLD", "RETRAIN_INTERVAL_HOURS",
               "PERFORMANCE_WINDOW_DAYS"]


def test_every_numeric_variable_is_in_one_of_the_two_lists():
    numeric = {r["variable"] for r in settings_table()
               if r["rule"].startswith(("a whole number", "a finite number"))}
    assert numeric == set(WHOLE_NUMBER_VARS) | set(NUMBER_VARS)


@pytest.mark.parametrize("var", WHOLE_NUMBER_VARS)
@pytest.mark.parametrize("raw, accepted", [
    ("32", 32), (" 32 ", 32), ("+32", 32),
    ("32.0", None), ("32.5", None), ("3.2e1", None), ("true", None), ("lots", None),
])
def test_whole_numbers_follow_one_rule_in_every_section(monkeypatch, var, raw, accepted):
    # POPULATION_SIZE=50.0 and BATCH_SIZE=32.0 now behave the same way: both refused.
    if accepted is None:
        with pytest.raises(ConfigError, match=rf"^{var}=.* is not valid: must be a whole "
                                              rf"number.*; set {var} to .* or unset it"):
            _read(monkeypatch, var, raw)
    else:
        value = _read(monkeypatch, var, raw)
        assert value == accepted and type(value) is int


@pytest.mark.parametrize("var", NUMBER_VARS)
@pytest.mark.parametrize("raw, accepted", [("0.5", 0.5), ("5e-1", 0.5), (" 0.5", 0.5)])
def test_numbers_accept_any_finite_decimal(monkeypatch, var, raw, accepted):
    value = _read(monkeypatch, var, raw)
    assert value == accepted and type(value) is float


@pytest.mark.parametrize("var", NUMBER_VARS)
@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity", "abc"])
def test_numbers_refuse_nan_inf_and_words(monkeypatch, var, raw):
    with pytest.raises(ConfigError, match=rf"^{var}={raw} is not valid: must be a finite "
                                          rf"number.*; set {var} to .* or unset it"):
        _read(monkeypatch, var, raw)


@pytest.mark.parametrize("var, raw, message", [
    ("BATCH_SIZE", "0", "BATCH_SIZE=0 is not valid: must be a whole number from 1 to 65536; "
                        "set BATCH_SIZE to a whole number from 1 to 65536 (default 32) or "
                        "unset it"),
    ("EPOCHS", "-1", "EPOCHS=-1 is not valid: must be a whole number from 1 to 10000; set "
                     "EPOCHS to a whole number from 1 to 10000 (default 50) or unset it"),
    ("LEARNING_RATE", "nan", "LEARNING_RATE=nan is not valid: must be a finite number > 0 "
                             "and ≤ 1; set LEARNING_RATE to a finite number > 0 and ≤ 1 "
                             "(default 0.001) or unset it"),
    ("POPULATION_SIZE", "50.0", "POPULATION_SIZE=50.0 is not valid: must be a whole number "
                                "≥ 4 (written without a decimal point); set POPULATION_SIZE "
                                "to a whole number ≥ 4 (default 50) or unset it"),
    ("MUTATION_RATE", "1.5", "MUTATION_RATE=1.5 is not valid: must be a finite number from "
                             "0 to 1; set MUTATION_RATE to a finite number from 0 to 1 "
                             "(default 0.1) or unset it"),
    ("RETRAIN_AUTO", "maybe", "RETRAIN_AUTO=maybe is not valid: must be true or false"),
])
def test_bad_values_name_the_variable_the_rule_and_the_fix(monkeypatch, var, raw, message):
    with pytest.raises(ParameterError) as e:
        _read(monkeypatch, var, raw)
    assert isinstance(e.value, ConfigError)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


@pytest.mark.parametrize("var, bound_ok, bound_bad", [
    ("POPULATION_SIZE", "4", "3"), ("ELITE_SIZE", "0", "-1"), ("MAX_GENERATIONS", "0", "-1"),
    ("BATCH_SIZE", "65536", "65537"), ("EPOCHS", "10000", "10001"),
    ("SEQUENCE_LENGTH", "2", "1"), ("MUTATION_RATE", "1", "1.0001"),
    ("CROSSOVER_RATE", "0", "-0.1"), ("LEARNING_RATE", "1", "0"),
    ("RETRAIN_THRESHOLD", "0", "-0.01"), ("RETRAIN_INTERVAL_HOURS", "0.001", "0"),
    ("MIN_DATA_POINTS", "1", "0"),
])
def test_bounds_are_inclusive_where_the_rule_says(monkeypatch, var, bound_ok, bound_bad):
    assert _read(monkeypatch, var, bound_ok) == float(bound_ok)
    with pytest.raises(ConfigError, match=rf"^{var}={bound_bad} is not valid"):
        _read(monkeypatch, var, bound_bad)


@pytest.mark.parametrize("raw, value", [("1", True), ("yes", True), ("ON", True),
                                        ("true", True), ("0", False), ("off", False),
                                        ("No", False), ("false", False)])
def test_flags(monkeypatch, raw, value):
    assert _read(monkeypatch, "RETRAIN_AUTO", raw) is value
    assert _read(monkeypatch, "STRATLAB_DEBUG", raw) is value


def test_an_empty_variable_counts_as_unset(monkeypatch):
    assert _read(monkeypatch, "BATCH_SIZE", "") == 32
    assert _read(monkeypatch, "FITNESS_THRESHOLD", "") == 0.8  # the default, not "off"


def test_fitness_threshold_none_turns_the_stop_off(monkeypatch):
    assert _read(monkeypatch, "FITNESS_THRESHOLD", "none") is None
    assert _read(monkeypatch, "FITNESS_THRESHOLD", "off") is None
    assert _read(monkeypatch, "FITNESS_THRESHOLD", "-0.25") == -0.25
    with pytest.raises(ConfigError, match="FITNESS_THRESHOLD=inf is not valid: .*none to "
                                          "turn it off"):
        _read(monkeypatch, "FITNESS_THRESHOLD", "inf")


def test_names_are_matched_exactly(monkeypatch):
    monkeypatch.setenv("batch_size", "7")  # not BATCH_SIZE
    assert get_settings().neural.batch_size == 32


# ------------------------------------------------------------------ the sections

def test_each_section_reads_its_own_variables(monkeypatch, tmp_path):
    env = {"STRATLAB_DATA_DIR": str(tmp_path / "d"), "MODEL_STORAGE_PATH": str(tmp_path / "m"),
           "POPULATION_SIZE": "30", "STRATLAB_RAY_ADDRESS": "auto", "EPOCHS": "7",
           "LEARNING_RATE": "0.0005", "MIN_DATA_POINTS": "500", "RETRAIN_AUTO": "false",
           "STRATLAB_PROMPTS": str(tmp_path / "p.yaml"), "STRATLAB_DEBUG": "1"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s = get_settings()
    assert s.storage.data_dir == s.data_dir == tmp_path / "d"
    assert s.storage.models_dir == tmp_path / "m"
    assert s.storage.scalers_dir == tmp_path / "d" / "scalers"  # unset: under the data dir
    assert s.storage.versions_dir == tmp_path / "d" / "model_versions"
    assert s.database_url == f"sqlite:///{(tmp_path / 'd' / 'lab.db').as_posix()}"
    assert (s.evolution.population_size, s.evolution.ray_address) == (30, "auto")
    assert (s.evolution.mutation_rate, s.evolution.max_generations) == (0.1, 100)
    assert (s.neural.epochs, s.neural.learning_rate, s.neural.batch_size) == (7, 0.0005, 32)
    assert (s.retrain.min_data_points, s.retrain.auto_retrain) == (500, False)
    assert s.llm.prompts_path == tmp_path / "p.yaml" and s.runtime.debug is True


def test_a_bad_section_does_not_stop_the_others(monkeypatch):
    monkeypatch.setenv("BATCH_SIZE", "0")
    s = get_settings()
    assert s.database_url.startswith("sqlite:///")  # storage still works: the app opens
    assert s.evolution.population_size == 50
    with pytest.raises(ConfigError, match="BATCH_SIZE=0"):
        s.neural  # noqa: B018 - reading the section validates it


def test_settings_follow_the_environment_and_reset(monkeypatch):
    first = get_settings()
    assert get_settings() is first  # read once while nothing changes
    monkeypatch.setenv("EPOCHS", "9")
    assert get_settings() is not first and get_settings().neural.epochs == 9
    again = get_settings()
    reset_settings()
    assert get_settings() is not again


def test_sections_can_be_given_instead_of_read(monkeypatch):
    monkeypatch.setenv("EPOCHS", "-1")
    s = Settings(neural=NeuralSettings(epochs=3))
    assert s.neural.epochs == 3
    with pytest.raises(ConfigError, match="unknown settings sections"):
        Settings(gpu=s.neural)
    with pytest.raises(ConfigError, match="EPOCHS=0 is not valid"):
        NeuralSettings(epochs=0)  # arguments pass the same rule


def test_the_api_key_is_never_shown(monkeypatch):
    secret = "sk-ant-test-0123456789"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    s = get_settings()
    assert s.llm.has_api_key and s.llm.api_key() == secret
    for text in (repr(s), str(s.llm), repr(s.llm), str(config.settings_values(s))):
        assert secret not in text
    row = next(r for r in config.settings_values(s) if r["variable"] == "ANTHROPIC_API_KEY")
    assert row["value"] == "set" and row["source"] == "environment"
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert not get_settings().llm.has_api_key and get_settings().llm.api_key() is None


def test_paths_expand_the_home_directory(monkeypatch):
    monkeypatch.setenv("MODEL_STORAGE_PATH", "~/lab-models")
    assert get_settings().storage.models_dir == Path("~/lab-models").expanduser()


def test_existing_helpers_keep_their_fields():
    s = get_settings()
    assert s.datasets_dir == s.data_dir / "datasets"
    assert s.samples_dir == PROJECT_ROOT / "data" / "samples"


# ---------------------------------------------------------------- the reference

def test_package_exports_exactly_its_public_names():
    assert sorted(config.__all__) == sorted([
        "ENV_NAMES", "PROJECT_ROOT", "SECTIONS", "AtLeastOne", "BatchSize", "ConfigError",
        "EliteSize", "Epochs", "EvolutionSettings", "FitnessThreshold", "Flag", "FolderPath",
        "Generations", "LLMSettings", "LearningRate", "NeuralSettings", "NonNegative",
        "Number", "NumberOrNone", "PopulationSize", "Positive", "Probability",
        "RetrainSettings", "RuntimeSettings", "Section", "SequenceLength", "Settings",
        "StorageSettings", "Whole", "check_value", "debug_requested", "describe", "env_name",
        "get_settings", "problem", "reset_settings", "rule", "settings_markdown", "settings_table",
        "settings_values"])
    assert all(hasattr(config, name) for name in config.__all__)
    assert PROJECT_ROOT == Path(__file__).resolve().parent.parent



def test_docs_configuration_md_is_the_generated_reference():
    # regenerate with: python -m engine config --markdown > docs/configuration.md
    assert DOC.read_text(encoding="utf-8") == settings_markdown()


def test_the_reference_lists_every_variable_once_with_its_section():
    text = settings_markdown()
    rows = settings_table()
    names = [r["variable"] for r in rows]
    assert len(names) == len(set(names)) == 29
    assert {r["section"] for r in rows} == set(SECTIONS) == {
        "storage", "evolution", "neural", "retrain", "llm", "runtime"}
    for r in rows:
        assert text.count(f"| `{r['variable']}` |") == 1
    assert "| `BATCH_SIZE` | `32` | a whole number from 1 to 65536 |" in text
    assert _section_of("STRATLAB_DEBUG") == "runtime"
    assert _section_of("MAX_SWEEP_COMBINATIONS") == "runtime"


def test_the_config_command(capsys, monkeypatch):
    from engine.cli import main

    assert main(["config", "--markdown"]) == 0
    assert capsys.readouterr().out == settings_markdown()
    monkeypatch.setenv("EPOCHS", "12")
    assert main(["config"]) == 0
    assert any(line.split()[:2] == ["EPOCHS", "12"] and "environment" in line
               for line in capsys.readouterr().out.splitlines())
    monkeypatch.setenv("EPOCHS", "-1")
    assert main(["config"]) == 2
    assert capsys.readouterr().err.startswith("error: EPOCHS=-1 is not valid: must be a whole")


# ---------------------------------------------- each subsystem takes its section

@pytest.mark.parametrize("var, raw", [("EPOCHS", "-1"), ("BATCH_SIZE", "0"),
                                      ("LEARNING_RATE", "nan"), ("SEQUENCE_LENGTH", "60.0")])
def test_training_refuses_bad_environment_defaults(monkeypatch, var, raw):
    # issue 9 item 9: EPOCHS=-1 used to train 0 epochs and register an untrained model
    from engine.neural import TrainConfig, make_config

    monkeypatch.setenv(var, raw)
    with pytest.raises(ConfigError, match=rf"^{var}={raw} is not valid: .*; set {var} to "):
        TrainConfig(symbol="X")
    with pytest.raises(ConfigError, match=rf"^{var}={raw} is not valid"):
        make_config(symbol="X")


def test_training_flags_override_the_environment_and_pass_the_same_rule(monkeypatch):
    from engine.neural import make_config

    monkeypatch.setenv("EPOCHS", "7")
    assert make_config(symbol="X").epochs == 7
    assert make_config(symbol="X", epochs=3).epochs == 3
    for bad in (-1, 0, 10_001, "5.0", 5.0, True):
        with pytest.raises(ParameterError, match="epochs"):
            make_config(symbol="X", epochs=bad)
    with pytest.raises(ParameterError, match="learning_rate: Value error, must be a finite"):
        make_config(symbol="X", learning_rate=float("nan"))


def test_model_storage_reads_the_storage_section(monkeypatch, tmp_path):
    from engine.neural import storage

    assert storage.model_dir() == get_settings().data_dir / "models"
    monkeypatch.setenv("SCALER_STORAGE_PATH", str(tmp_path / "s"))
    assert storage.scaler_dir() == tmp_path / "s"
    assert storage.version_dir() == get_settings().data_dir / "model_versions"


def test_the_retrain_policy_reads_the_retrain_section(monkeypatch):
    from engine import retrain
    from engine.config import RetrainSettings, env_name

    assert retrain.POLICY_ENV == {f: env_name(RetrainSettings, f)
                                  for f in RetrainSettings.model_fields}
    assert retrain.RetrainPolicy().to_dict() == RetrainSettings().model_dump()
    monkeypatch.setenv("MIN_DATA_POINTS", "500")
    monkeypatch.setenv("RETRAIN_AUTO", "off")
    p = retrain.default_policy()
    assert (p.min_data_points, p.auto_retrain) == (500, False)
    monkeypatch.setenv("MIN_DATA_POINTS", "500.0")
    with pytest.raises(ConfigError, match=r"^MIN_DATA_POINTS=500\.0 is not valid: must be a "
                                          r"whole number ≥ 1"):
        retrain.default_policy()


@pytest.mark.parametrize("changes, message", [
    ({"min_data_points": "500.0"}, r"^min_data_points=500\.0 is not valid: must be a whole"),
    ({"min_data_points": 500.5}, r"^min_data_points=500\.5 is not valid: must be a whole"),
    ({"interval_hours": "nan"}, r"^interval_hours=nan is not valid: must be a finite number"),
    ({"accuracy_threshold": float("inf")}, r"^accuracy_threshold=inf is not valid"),
    ({"auto_retrain": "maybe"}, r"^auto_retrain=maybe is not valid: must be true or false"),
])
def test_saved_policy_values_pass_the_environment_rule(changes, message):
    from engine import retrain

    with pytest.raises(ConfigError, match=message):
        retrain.save_policy(changes)
    saved = retrain.save_policy({"min_data_points": "500", "auto_retrain": "no"})
    assert (saved.min_data_points, saved.auto_retrain) == (500, False)
    assert retrain.get_policy() == saved


def test_the_llm_client_and_prompts_read_the_llm_section(monkeypatch, tmp_path):
    from engine.llm.client import resolve_api_key
    from engine.llm.prompts import config_path

    assert resolve_api_key() is None and resolve_api_key("given") == "given"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env")
    assert resolve_api_key() == "sk-env" and resolve_api_key("given") == "given"
    assert config_path() == PROJECT_ROOT / "prompts" / "prompts.yaml"
    monkeypatch.setenv("STRATLAB_PROMPTS", str(tmp_path / "p.yaml"))
    assert config_path() == tmp_path / "p.yaml"


def test_an_explicit_value_never_reads_the_variable_it_overrides(monkeypatch):
    from engine.evolution import EvolutionConfig
    from engine.neural import make_config

    monkeypatch.setenv("EPOCHS", "many")
    monkeypatch.setenv("BATCH_SIZE", "64")
    cfg = make_config(symbol="X", epochs=2)  # the flag replaces EPOCHS
    assert (cfg.epochs, cfg.batch_size) == (2, 64)
    with pytest.raises(ConfigError, match="^EPOCHS=many is not valid"):
        make_config(symbol="X")  # the bad default is the one used: refused
    monkeypatch.setenv("POPULATION_SIZE", "50.0")
    assert EvolutionConfig(symbols=["X"], population_size=20).population_size == 20
    with pytest.raises(ConfigError, match=r"^POPULATION_SIZE=50\.0 is not valid"):
        EvolutionConfig(symbols=["X"])
