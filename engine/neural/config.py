"""Training configuration: :class:`TrainConfig`, with the seed's defaults from the environment.

=====================  =======  =====================================================
variable               default  meaning
=====================  =======  =====================================================
BATCH_SIZE             32       samples per optimiser micro-batch
LEARNING_RATE          0.001    AdamW learning rate
EPOCHS                 50       most epochs (early stopping usually ends sooner)
SEQUENCE_LENGTH        60       bars per input window
=====================  =======  =====================================================

Model sizes default to the seed's configuration: LSTM (input 10, hidden 128, 3 layers,
3 outputs) and Transformer (input 10, d_model 128, 8 heads, 4 layers, 3 outputs). Every
size is a field, so tests and the page's "small" preset can train in seconds.

>>> cfg = TrainConfig(symbol="SYN-TREND", model_type="lstm")
>>> cfg.resolved_num_layers(), cfg.hidden_size
(3, 128)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from engine.config import BatchSize, Epochs, LearningRate, SequenceLength, get_settings
from engine.errors import ParameterError

N_FEATURES = 10
N_CLASSES = 3
CLASS_NAMES = ("sell", "hold", "buy")  # class index 0, 1, 2
MODEL_TYPES = ("lstm", "transformer")
SEED_LAYERS = {"lstm": 3, "transformer": 4}


def env_batch_size() -> int:
    """``BATCH_SIZE`` (the ``neural`` section of :func:`engine.config.get_settings`)."""
    return get_settings().default("neural", "batch_size")


def env_learning_rate() -> float:
    return get_settings().default("neural", "learning_rate")


def env_epochs() -> int:
    return get_settings().default("neural", "epochs")


def env_sequence_length() -> int:
    return get_settings().default("neural", "sequence_length")


class TrainConfig(BaseModel):
    """Everything that defines one training run (stored with the model and the version).

    Labels: class ``buy`` when the close ``horizon`` bars ahead is more than ``threshold``
    (a fraction: 0.01 = 1 %) above today's close, ``sell`` when more than ``threshold``
    below, ``hold`` otherwise. ``val_fraction``/``test_fraction`` are shares of the usable
    windows, split chronologically (train, then validation, then test) with a gap of
    ``horizon`` windows between parts. ``prob_threshold``: the model's strategy only acts on
    a Buy/Sell prediction whose probability is at least this (0 = act on every argmax).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    symbol: str = Field(min_length=1)
    model_type: Literal["lstm", "transformer"] = "lstm"
    horizon: int = Field(5, ge=1, le=250)
    threshold: float = Field(0.01, ge=0.0, lt=1.0)
    # the same types (and bounds) as the environment defaults: one rule for numbers
    epochs: Epochs = Field(default_factory=env_epochs)
    batch_size: BatchSize = Field(default_factory=env_batch_size)
    learning_rate: LearningRate = Field(default_factory=env_learning_rate)
    sequence_length: SequenceLength = Field(default_factory=env_sequence_length)
    start: str | None = None
    end: str | None = None
    val_fraction: float = Field(0.15, gt=0.0, lt=0.5)
    test_fraction: float = Field(0.15, gt=0.0, lt=0.5)
    patience: int = Field(5, ge=1)
    grad_accum_steps: int = Field(1, ge=1, le=1024)
    seed: int = 42
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # model sizes (seed defaults)
    hidden_size: int = Field(128, ge=1)
    num_layers: int | None = Field(None, ge=1, le=32)  # None: 3 for lstm, 4 for transformer
    d_model: int = Field(128, ge=2)
    nhead: int = Field(8, ge=1)
    dim_feedforward: int = Field(256, ge=1)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    weight_decay: float = Field(1e-4, ge=0.0)
    # strategy
    prob_threshold: float = Field(0.0, ge=0.0, le=1.0)
    commission: float = Field(0.0, ge=0.0, lt=0.1)

    @model_validator(mode="before")
    @classmethod
    def _dates_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for k in ("start", "end"):
                v = data.get(k)
                if isinstance(v, (date, datetime)):
                    data = {**data, k: v.isoformat()}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if self.model_type == "transformer" and self.d_model % self.nhead:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of nhead "
                             f"({self.nhead}), e.g. d_model 128 with 8 heads")
        if self.val_fraction + self.test_fraction >= 0.8:
            raise ValueError("val_fraction + test_fraction must leave at least 20 % for "
                             "training; lower them")
        return self

    def resolved_num_layers(self) -> int:
        return self.num_layers or SEED_LAYERS[self.model_type]

    def model_name(self) -> str:
        """The registry's model name: ``<symbol>-<model_type>``."""
        return f"{self.symbol}-{self.model_type}"

    def architecture(self) -> dict[str, Any]:
        """The sizes that rebuild the network (stored inside the model file)."""
        base = {"model_type": self.model_type, "input_size": N_FEATURES,
                "output_size": N_CLASSES, "sequence_length": self.sequence_length,
                "num_layers": self.resolved_num_layers(), "dropout": self.dropout}
        if self.model_type == "lstm":
            return {**base, "hidden_size": self.hidden_size}
        return {**base, "d_model": self.d_model, "nhead": self.nhead,
                "dim_feedforward": self.dim_feedforward}


def make_config(**kwargs: Any) -> TrainConfig:
    """Build a :class:`TrainConfig`, turning validation errors into one ParameterError."""
    try:
        return TrainConfig(**kwargs)
    except ValidationError as exc:
        parts = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"]) or "config"
            parts.append(f"{loc}: {e['msg']}")
        raise ParameterError("invalid training configuration — " + "; ".join(parts)) from None
