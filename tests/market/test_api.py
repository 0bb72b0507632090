"""The public surface of engine.market is small and pinned."""

import engine.market as market


def test_all_is_pinned():
    assert sorted(market.__all__) == sorted([
        "CANONICAL", "DEFAULT_REGIMES", "REGIMES", "DatasetInfo", "ImportReport", "RegimeParams",
        "RegimeState", "build_samples", "current_regime", "dataset_fingerprint", "default_symbol",
        "delete_dataset", "detect_regimes", "download", "ensure_samples", "generate_synthetic",
        "get_dataset_info", "import_file", "list_datasets", "load_dataset", "read_file",
        "regime_spans", "validate_frame",
    ])
    for name in market.__all__:
        assert getattr(market, name) is not None
        if callable(getattr(market, name)) and not isinstance(getattr(market, name), type):
            assert getattr(market, name).__doc__, f"{name} needs a docstring"
