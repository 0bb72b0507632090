"""The one place this package reaches the model registry (``engine.registry``).

The registry (versions, lineage, deployments) is its own module; neural training calls
``register_version`` and loading calls ``verify_file``. Importing it lazily keeps this
package usable (``register=False``) where the registry is absent, and gives tests one seam.
"""

from __future__ import annotations

from types import ModuleType

from engine.errors import StratLabError


def registry() -> ModuleType:
    try:
        import engine.registry as reg
    except ModuleNotFoundError as exc:
        if exc.name != "engine.registry":
            raise
        raise StratLabError(
            "the model registry (engine.registry) is not available; train without "
            "registering (`--no-register`, register=False) or install the registry"
        ) from None
    return reg


def available() -> bool:
    try:
        registry()
    except StratLabError:
        return False
    return True
