"""The quality gate: a retrained version replaces the deployed one only if it is better.

Both versions are evaluated on the same held-out window (which the new one never trained
on). Comparisons allow :data:`EPS` of float noise.
"""

from __future__ import annotations

from typing import Any

#: float noise absorbed by every comparison (0.85 − 0.80 = 0.04999…)
EPS = 1e-9


def quality_gate(old: dict[str, Any], new: dict[str, Any]) -> tuple[bool, str]:
    """Deploy the new version only if, on the same held-out window, its accuracy is strictly
    higher than the deployed version's and its return is not lower. Returns (deploy, why)."""
    oa, na = old.get("accuracy"), new.get("accuracy")
    orr, nr = old.get("return_pct"), new.get("return_pct")
    if na is None or oa is None:
        return False, "accuracy on the held-out window is unknown; not deployed"
    if not na > oa + EPS:
        return False, (f"new accuracy {na:.4f} is not above the deployed version's {oa:.4f} "
                       "on the held-out window; kept, not deployed")
    if nr is not None and orr is not None and nr < orr - EPS:
        return False, (f"new accuracy {na:.4f} > {oa:.4f}, but its return {nr:.2f} % is below "
                       f"the deployed version's {orr:.2f} % on the held-out window; kept, "
                       "not deployed")
    ret = f" and return {nr:.2f} % >= {orr:.2f} %" if nr is not None and orr is not None else ""
    return True, f"new accuracy {na:.4f} > {oa:.4f}{ret} on the held-out window; deployed"
