"""The networks: one module per architecture, built from a plain architecture dict.

``build_model(arch)`` takes :meth:`engine.neural.config.TrainConfig.architecture` (stored in
every model file) and returns an ``nn.Module`` mapping ``(batch, L, 10)`` windows to
``(batch, 3)`` logits (sell, hold, buy).
"""

from __future__ import annotations

from typing import Any

from engine.errors import ParameterError


def build_model(arch: dict[str, Any]):
    kind = arch.get("model_type")
    if kind == "lstm":
        from engine.neural.models.lstm import LSTMClassifier

        return LSTMClassifier(input_size=arch["input_size"], hidden_size=arch["hidden_size"],
                              num_layers=arch["num_layers"], output_size=arch["output_size"],
                              dropout=arch.get("dropout", 0.1))
    if kind == "transformer":
        from engine.neural.models.transformer import TransformerClassifier

        return TransformerClassifier(
            input_size=arch["input_size"], d_model=arch["d_model"], nhead=arch["nhead"],
            num_layers=arch["num_layers"], output_size=arch["output_size"],
            dim_feedforward=arch.get("dim_feedforward", 256), dropout=arch.get("dropout", 0.1),
            max_len=max(int(arch.get("sequence_length", 60)), 1))
    raise ParameterError(f"unknown model type {kind!r}; use 'lstm' or 'transformer'")


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
