"""Strategy Lab engine: everything the app does, without any UI.

The public surface is small; import from the subpackages for the rest:

- :mod:`engine.market` — datasets, validation, samples, indicators, regimes
- :mod:`engine.backtest` — strategies, the compiled simulator, metrics, sweeps
"""

__version__ = "0.1.0"
