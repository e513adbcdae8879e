"""Device names resolve to torch devices the same way for every model."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from themescope.devices import DEVICES, resolve_device
from themescope.errors import ConfigError


def test_cpu_and_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_unavailable_cuda_is_refused_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError) as info:
        resolve_device("cuda")
    assert str(info.value) == (
        f"--device cuda was asked for, but this torch ({torch.__version__}) sees no CUDA GPU"
    )


def test_unknown_name() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_device("gpu")
    assert str(info.value) == "--device must be one of auto, cpu, cuda, mps. Got 'gpu' instead."
    assert DEVICES == ("auto", "cpu", "cuda", "mps")


def test_import_does_not_load_torch() -> None:
    code = "import sys, themescope.devices; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
