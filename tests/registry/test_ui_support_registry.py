"""Registry behaviour the pages rely on (issue 10): the second rollback's message."""

from __future__ import annotations

import pytest

from engine import registry
from engine.errors import StratLabError
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
