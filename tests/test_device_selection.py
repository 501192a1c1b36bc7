"""Device choice, GPU memory cap, mixed precision and the shared out-of-memory retry.

A CUDA GPU is simulated by patching torch.cuda's queries: this machine has none, and the code
under test only asks torch those questions.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from geohazard.engine.core import device as device_mod
from geohazard.engine.core.device import (
    MemoryCap,
    RunOptions,
    autocast,
    memory_cap_scope,
    parse_memory_cap,
    resolve_device,
)
from geohazard.engine.core.errors import GeohazardError
from geohazard.engine.core.oom import run_with_oom_retry
from geohazard.engine.core.progress import Reporter


class Log:
    def __init__(self) -> None:
        self.infos: list[str] = []
        self.warnings: list[str] = []

    def reporter(self) -> Reporter:
        return Reporter(info=self.infos.append, warning=self.warnings.append)


@pytest.fixture(autouse=True)
def _no_active_caps():
    device_mod._active_caps.clear()
    yield
    device_mod._active_caps.clear()


@pytest.fixture
def fake_gpus(monkeypatch):
    """Two simulated 8 GiB CUDA GPUs; records memory-fraction calls."""
    calls: list[tuple[float, int]] = []

    class Props:
        total_memory = 8 * 1024**3

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda d=None: "Simulated RTX 4090")
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda d: Props())
    monkeypatch.setattr(
        torch.cuda, "set_per_process_memory_fraction", lambda f, d=None: calls.append((f, d))
    )
    return calls


def test_auto_picks_cuda_when_available(fake_gpus):
    log = Log()
    dev = resolve_device("auto", log.reporter())
    assert dev.type == "cuda"
    assert "auto chose CUDA (Simulated RTX 4090)" in log.infos[0]
    assert fake_gpus == []  # no cap asked for, none set


def test_auto_picks_cpu_without_gpu_and_says_why(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_mod, "_mps_available", lambda: False)
    log = Log()
    assert resolve_device("auto", log.reporter()).type == "cpu"
    assert "auto chose the CPU" in log.infos[0]
    if torch.version.cuda is None:  # this machine: the CPU build of torch
        assert "CPU" in log.infos[0] and "build" in log.infos[0]


def test_auto_picks_mps_on_apple_silicon(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_mod, "_mps_available", lambda: True)
    log = Log()
    assert resolve_device("auto", log.reporter()).type == "mps"
    assert "Apple MPS" in log.infos[0]


def test_explicit_cuda_on_this_cpu_machine_gives_clear_message():
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    log = Log()
    dev = resolve_device("cuda", log.reporter())
    assert dev.type == "cpu"
    assert len(log.warnings) == 1
    assert log.warnings[0].startswith("CUDA was requested but ")
    assert "running on the CPU instead" in log.warnings[0]
    if torch.version.cuda is None:
        assert "CPU" in log.warnings[0] and "build" in log.warnings[0]


def test_explicit_mps_without_mps_falls_back_with_message(monkeypatch):
    monkeypatch.setattr(device_mod, "_mps_available", lambda: False)
    log = Log()
    assert resolve_device("mps", log.reporter()).type == "cpu"
    assert "Apple MPS was requested but is not available" in log.warnings[0]


def test_cuda_index_selection_and_bad_index(fake_gpus):
    log = Log()
    dev = resolve_device("cuda:1", log.reporter())
    assert dev == torch.device("cuda", 1)
    assert "cuda:1 (Simulated RTX 4090), as requested" in log.infos[0]
    with pytest.raises(
        GeohazardError, match=r"cuda:5 was requested but only 2 CUDA device\(s\) exist"
    ):
        resolve_device("cuda:5")
    with pytest.raises(GeohazardError, match="Unknown device 'tpu'"):
        resolve_device("tpu")


def test_memory_cap_applies_while_a_run_lasts_on_its_gpu(fake_gpus):
    log = Log()
    with memory_cap_scope(torch.device("cuda", 1), parse_memory_cap("6 GiB"), log.reporter()):
        assert fake_gpus == [(0.75, 1)]
        # a second run with a tighter cap on the same card: the tighter one holds meanwhile
        with memory_cap_scope(torch.device("cuda", 1), parse_memory_cap("50%")):
            assert fake_gpus[-1] == (0.5, 1)
        assert fake_gpus[-1] == (0.75, 1)
    assert fake_gpus[-1] == (1.0, 1)  # the last run ended: the whole card again
    assert any("GPU memory capped at 6 GiB (6.0 of 8.0 GiB)" in m for m in log.infos)
    with memory_cap_scope(torch.device("cuda"), None):
        pass  # no cap asked for: nothing set
    assert len(fake_gpus) == 4


@pytest.mark.parametrize(
    "text, cap",
    [
        ("", None),
        ("0.8", MemoryCap(fraction=0.8)),
        ("80%", MemoryCap(fraction=0.8)),
        ("6 GiB", MemoryCap(gib=6.0)),
        ("2.5gb", MemoryCap(gib=2.5)),
        ("4G", MemoryCap(gib=4.0)),
    ],
)
def test_parse_memory_cap(text, cap):
    assert parse_memory_cap(text) == cap


@pytest.mark.parametrize("text", ["1.5", "0", "lots", "-2 GiB"])
def test_parse_memory_cap_refuses_nonsense(text):
    with pytest.raises(GeohazardError, match="GPU memory cap"):
        parse_memory_cap(text)


def test_autocast_only_when_asked_and_not_on_cpu():
    cpu = torch.device("cpu")
    with autocast(cpu, RunOptions()):
        assert torch.ones(2).dtype == torch.float32
    with autocast(cpu, RunOptions(mixed_precision=True)):  # the CPU stays float32
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_out_of_memory_retry_halves_until_it_fits():
    log = Log()
    tried: list[int] = []

    def run(size: int) -> str:
        tried.append(size)
        if size > 64:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return f"done with {size}"

    assert run_with_oom_retry(run, 256, 16, log.reporter(), what="tile size") == "done with 64"
    assert tried == [256, 128, 64]
    assert log.warnings == [
        "Out of memory with tile size 256; retrying with 128.",
        "Out of memory with tile size 128; retrying with 64.",
    ]


def test_out_of_memory_gives_up_with_advice_and_other_errors_pass_through():
    def always_oom(size: int) -> None:
        raise RuntimeError("MPS backend out of memory (MPS allocated: 8 GiB)")

    with pytest.raises(
        GeohazardError, match="Out of memory even with tile size 32; free GPU memory"
    ):
        run_with_oom_retry(always_oom, 128, 32, what="tile size")

    def broken(size: int) -> None:
        raise ValueError("not a memory problem")

    with pytest.raises(ValueError, match="not a memory problem"):
        run_with_oom_retry(broken, 128, 32)


def test_offset_tracking_retries_after_simulated_oom(tmp_path, monkeypatch):
    """A real algorithm's engine goes through the shared retry: an OOM in the first batch of
    windows is retried with a smaller batch and the result is still written."""
    from geohazard.engine.offsets import tracking
    from sar_pairs import write_pair

    shape = (96, 96)
    ref, sec = write_pair(tmp_path, np.full(shape, 1.0), np.full(shape, -2.0))
    real = tracking.correlate
    chunks: list[int] = []

    def flaky(*args, **kwargs):
        chunk = args[7]
        chunks.append(chunk)
        if chunk > 16:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(tracking, "correlate", flaky)
    log = Log()
    out = str(tmp_path / "offsets.tif")
    cfg = tracking.OffsetTrackingConfig(
        window_sizes="32", step=16, search=4, device="cpu", chunk_size=64
    )
    result = tracking.track_offsets(ref, sec, out, cfg, log.reporter())
    assert chunks[:3] == [64, 32, 16]
    assert any("retrying with 32" in w for w in log.warnings)
    assert result.valid_fraction > 0.5
