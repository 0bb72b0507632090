"""Registry behaviour the pages rely on (issue 10): the second rollback's message."""

from __future__ import annotations

import pytest

from engine import registry
from engine.errors import ParameterError, StratLabError
from tests.registry.factories import make_version


def test_a_second_rollback_names_the_version_deployed_and_rolled_back_before():
    # deploy lstm A, deploy transformer B, roll back (A again); a second rollback has
    # nowhere to go — and must not claim that only A was ever deployed there
    a = make_version(model_type="lstm")
    b = make_version(model_type="transformer")
    registry.deploy(a.version_id, "paper")
    registry.deploy(b.version_id, "paper")
    assert registry.rollback("paper").version_id == a.version_id
    with pytest.raises(StratLabError) as err:
        registry.rollback("paper")
    msg = str(err.value)
    assert "only" not in msg
    assert (f"no earlier deployment in paper to roll back to: {a.version_id} is the earliest "
            f"deployed there, and {b.version_id} was deployed later and rolled back already"
            in msg)
    assert registry.current_deployment("paper").version_id == a.version_id


def test_a_rollback_with_one_version_ever_deployed_says_so():
    a = make_version()
    registry.deploy(a.version_id, "production")
    with pytest.raises(StratLabError,
                       match=f"{a.version_id} is the only version deployed there"):
        registry.rollback("production")


# ------------------------------------------------ search and compare (MLflow-like)

def _three():
    a = make_version(accuracy=0.50, return_pct=2.0, model_type="lstm",
                     config={"horizon": 5, "hidden": 32})
    b = make_version(accuracy=0.62, return_pct=7.5, model_type="transformer",
                     config={"horizon": 10, "hidden": 32})
    c = make_version(accuracy=0.58, return_pct=-1.0, model_type="lstm",
                     config={"horizon": 10, "hidden": 64})
    return a, b, c


def ids(infos):
    return sorted(i.version_id for i in infos)


def test_search_versions_by_parameters_and_metrics():
    a, b, c = _three()
    assert ids(registry.search_versions("metrics.accuracy > 0.55")) == ids([b, c])
    assert ids(registry.search_versions("params.horizon = 10")) == ids([b, c])
    assert ids(registry.search_versions("accuracy >= 0.58 AND params.hidden = 64")) == \
        ids([c])
    assert ids(registry.search_versions("model_type = lstm and return_pct < 0")) == ids([c])
    assert ids(registry.search_versions("sharpe = 1")) == ids([a, b, c])  # factory metric
    assert ids(registry.search_versions("")) == ids([a, b, c])
    assert registry.search_versions("params.nothing = 1") == []  # missing never matches
    with pytest.raises(ParameterError, match="cannot read the filter clause 'accuracy'"):
        registry.search_versions("accuracy")
    with pytest.raises(ParameterError, match="'>' needs a number"):
        registry.search_versions("model_type > lstm")


def test_compare_versions_takes_three_and_exports_csv():
    a, b, c = _three()
    cmp = registry.compare_versions([a.version_id, b.version_id, c.version_id])
    assert [v["version_id"] for v in cmp["versions"]] == [a.version_id, b.version_id,
                                                          c.version_id]
    acc = next(r for r in cmp["metrics"] if r["name"] == "accuracy")
    assert acc["values"] == {a.version_id: 0.50, b.version_id: 0.62, c.version_id: 0.58}
    assert acc["best"] == b.version_id
    # a shared highest value marks no one (the factory's sharpe is 1.0 for all three)
    assert next(r for r in cmp["metrics"] if r["name"] == "sharpe")["best"] is None
    horizon = next(r for r in cmp["params"] if r["name"] == "horizon")
    assert horizon["values"] == {a.version_id: 5, b.version_id: 10, c.version_id: 10}
    assert horizon["differs"] is True
    assert next(r for r in cmp["params"] if r["name"] == "threshold")["differs"] is False
    lines = registry.comparison_csv(cmp).splitlines()
    assert lines[0] == f"kind,name,{a.version_id},{b.version_id},{c.version_id}"
    assert "metric,accuracy,0.5,0.62,0.58" in lines
    assert "param,horizon,5,10,10" in lines
    with pytest.raises(ParameterError, match="at least two different versions"):
        registry.compare_versions([a.version_id, a.version_id])
