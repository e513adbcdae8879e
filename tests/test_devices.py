"""Device names resolve to torch devices the same way for every model."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from themescope import devices
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


def _cgroup(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "150000 100000\n"}, 1.5),  # cgroup v2: 1.5 CPUs
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3.0),  # v1
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),  # no cgroup file system (macOS, Windows)
    ],
)
def test_cgroup_cpu_quota(tmp_path, files, quota) -> None:
    assert devices._cgroup_cpu_quota(_cgroup(tmp_path, files)) == quota


def test_usable_cores_obey_affinity_and_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.setattr(devices, "_cgroup_cpu_quota", lambda: None)
    assert devices.usable_cores() == 4
    monkeypatch.setattr(devices, "_cgroup_cpu_quota", lambda: 1.5)  # a container's quota
    assert devices.usable_cores() == 2
    monkeypatch.setattr(devices, "_cgroup_cpu_quota", lambda: 0.2)
    assert devices.usable_cores() == 1


def test_torch_threads_default_is_capped_at_the_usable_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = torch.get_num_threads()
    monkeypatch.setattr(devices, "usable_cores", lambda: 1)
    with devices.torch_threads(0):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with devices.torch_threads(3):  # an explicit count is the user's choice
        assert torch.get_num_threads() == 3
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    ("given", "seen"),
    [
        ({}, "1000"),
        ({"GOMP_SPINCOUNT": "50"}, "50"),  # the user's own choices are kept
        ({"OMP_WAIT_POLICY": "ACTIVE"}, None),
    ],
)
def test_importing_themescope_shortens_openmp_spinning(given, seen) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    code = "import os, themescope; print(os.environ.get('GOMP_SPINCOUNT'))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, **given},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(seen)
