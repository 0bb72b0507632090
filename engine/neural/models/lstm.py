"""LSTM classifier (seed: input 10, hidden 128, 3 layers, 3 outputs, sequence 60).

A stacked ``nn.LSTM`` (dropout between layers), then LayerNorm → dropout → linear head on
the hidden state of the last bar of the window.
"""

from __future__ import annotations

import torch
from torch import nn


class LSTMClassifier(nn.Module):
    def __init__(self, *, input_size: int = 10, hidden_size: int = 128, num_layers: int = 3,
                 output_size: int = 3, dropout: float = 0.1) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.norm = nn.LayerNorm(hidden_size)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(self.drop(self.norm(out[:, -1])))
