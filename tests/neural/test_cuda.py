"""CUDA: mixed precision with a gradient scaler on the GPU; skipped cleanly without one."""

from __future__ import annotations

import pytest
import torch

from engine.neural import train_model
from engine.neural.training import resolve_device
from tests.neural.conftest import tiny

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU (CUDA)")


@cuda
@pytest.mark.parametrize("model_type", ["lstm", "transformer"])
def test_amp_training_on_cuda(planted, model_type):
    res = train_model(tiny(model_type, device="auto"), data=planted)
    assert res.device.startswith("cuda") and res.amp is True
    assert res.metrics["val_accuracy"] > 0.7
    assert res.samples_per_second > 0


@cuda
def test_cuda_model_loads_on_the_cpu(planted):
    from engine.neural.pipeline import load_model_file, predict

    res = train_model(tiny(device="cuda", epochs=2), data=planted)
    loaded = load_model_file(res.file_path, expected_hash=res.file_hash)
    assert predict(loaded, planted).height > 0


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU path")
def test_without_a_gpu_auto_is_cpu_and_cuda_is_a_clear_error():
    from engine.errors import ParameterError

    assert resolve_device("auto").type == "cpu"
    with pytest.raises(ParameterError, match="no CUDA GPU"):
        resolve_device("cuda")
