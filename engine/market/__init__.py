"""Market data: validation, the dataset store, samples, synthetic data, regimes, downloads.

The few names other packages need are re-exported here; the implementation lives in one
module per concept (``validation``, ``store``, ``fingerprint``, ``samples`` with
``real_samples``, ``synthetic``, ``regimes``, ``download``, ``indicators``). The canonical
frame every function returns is a polars DataFrame with columns ``timestamp``
(``Datetime("us")``, naive UTC, strictly increasing), ``open``, ``high``, ``low``, ``close``,
``volume`` (Float64, finite, prices > 0, volume >= 0, high >= max(open, close),
low <= min(open, close)).
"""

from engine.market.download import download
from engine.market.fingerprint import dataset_fingerprint
from engine.market.regimes import (
    REGIMES,
    RegimeParams,
    current_regime,
    detect_regimes,
    regime_spans,
)
from engine.market.samples import build_samples, ensure_samples
from engine.market.store import (
    DatasetInfo,
    default_symbol,
    delete_dataset,
    get_dataset_info,
    import_file,
    list_datasets,
    load_dataset,
)
from engine.market.synthetic import DEFAULT_REGIMES, RegimeState, generate_synthetic
from engine.market.validation import CANONICAL, ImportReport, read_file, validate_frame

__all__ = [
    "CANONICAL",
    "DEFAULT_REGIMES",
    "REGIMES",
    "DatasetInfo",
    "ImportReport",
    "RegimeParams",
    "RegimeState",
    "build_samples",
    "current_regime",
    "dataset_fingerprint",
    "default_symbol",
    "delete_dataset",
    "detect_regimes",
    "download",
    "ensure_samples",
    "generate_synthetic",
    "get_dataset_info",
    "import_file",
    "list_datasets",
    "load_dataset",
    "read_file",
    "regime_spans",
    "validate_frame",
]
