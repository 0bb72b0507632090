"""Transformer-encoder classifier (seed: input 10, d_model 128, 8 heads, 4 layers, 3 outputs,
sequence 60) with sinusoidal positional encoding.

Linear input projection to ``d_model`` (scaled by √d_model), plus the fixed sinusoidal
positional encoding of Vaswani et al. (``PE[p, 2i] = sin(p / 10000^(2i/d))``,
``PE[p, 2i+1] = cos(…)``), then ``num_layers`` pre-norm encoder layers (GELU feed-forward of
``dim_feedforward``), then the mean over time of the final LayerNorm's output and a linear
head. No causal mask is needed: the whole window is the past of its last bar.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal encoding of each position (a non-trainable buffer)."""

    def __init__(self, d_model: int, max_len: int = 512) -> None:
        super().__init__()
        pos = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32)
                        * (-math.log(10_000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div[: d_model // 2])
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.size(1) > self.pe.size(0):
            raise ValueError(f"window of {x.size(1)} bars is longer than the positional "
                             f"encoding ({self.pe.size(0)}); rebuild with a larger max_len")
        return x + self.pe[: x.size(1)].to(x.dtype)


class TransformerClassifier(nn.Module):
    def __init__(self, *, input_size: int = 10, d_model: int = 128, nhead: int = 8,
                 num_layers: int = 4, output_size: int = 3, dim_feedforward: int = 256,
                 dropout: float = 0.1, max_len: int = 512) -> None:
        super().__init__()
        self.scale = math.sqrt(d_model)
        self.proj = nn.Linear(input_size, d_model)
        self.pos = PositionalEncoding(d_model, max_len)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=dim_feedforward,
                                           dropout=dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=num_layers,
                                             enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(d_model, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(self.pos(self.proj(x) * self.scale))
        return self.head(self.drop(self.norm(h).mean(dim=1)))
