"""CUDAGraphForce: what is refused before any GPU work (tests on a GPU: tests/test_cuda.py)."""

import pytest
import torch

from latsym.dynamics import CUDAGraphForce


@pytest.mark.parametrize(
    ("q", "message"),
    [
        (torch.zeros(4, 4), r"pass a floating CUDA tensor, got \(4, 4\) torch.float32 on cpu"),
        (torch.zeros(4, 4, dtype=torch.int64), "got .* torch.int64"),
        ([[0.0]], "pass a floating CUDA tensor, got list"),
    ],
)
def test_the_first_call_needs_a_floating_cuda_tensor(q, message):
    force = CUDAGraphForce(lambda q: -q)
    with pytest.raises(ValueError, match=message):
        force(q)


@pytest.mark.parametrize("warmup", [-1, 1.5, True, "3"])
def test_bad_warmup(warmup):
    with pytest.raises(ValueError, match="warmup must be a non-negative int"):
        CUDAGraphForce(lambda q: -q, warmup=warmup)


def test_force_must_be_callable():
    with pytest.raises(TypeError, match="force must be callable, got int"):
        CUDAGraphForce(3)


def test_name_is_the_wrapped_forces():
    def harmonic(q):
        return -q

    named = lambda q: q  # noqa: E731
    named.name = "network:latsym"
    assert CUDAGraphForce(harmonic).name == harmonic.__qualname__
    assert CUDAGraphForce(named).name == "network:latsym"
