"""Dtype conversions, the eval-mode kernel cache, and non-floating inputs."""

import copy

import numpy as np
import pytest
import torch

from latsym.group import permutation_representation, point_group
from latsym.lattice import PeriodicLattice, honeycomb, square, triangular
from latsym.nn import (
    Activation,
    FullyConnectedTensorProduct,
    Gate,
    Irreps,
    LatticeConv,
    Linear,
    Neighbourhood,
    NormActivation,
    RepType,
    Sequential,
    TensorSquare,
)
from latsym.testing import assert_equivariant

D4 = point_group("4mm", dim=2)
LATTICE = PeriodicLattice(square(), 6)


def model() -> Sequential:
    """A stack holding every kind of float64 constant (a permutation field's change of basis, the
    stencil projection, endomorphisms, Clebsch–Gordan bases) on the triangular lattice, whose
    irrational constants (√3/2, 1/√6, …) lose equivariance when rounded to float32."""
    torch.manual_seed(0)
    tri = triangular()
    rho = permutation_representation(tri.group, tri.stencil(1.0).action)
    return Sequential(
        LatticeConv(PeriodicLattice(tri, 6), RepType(rho), "A1 + 2xA1 + E1 + E2", 1.0, group=tri.group),
        Gate("A1", torch.tanh, "2xA1", torch.sigmoid, "E1 + E2", group=tri.group),
        Linear("A1 + E1 + E2", "A1 + 2xE1 + E2", group=tri.group),
        TensorSquare("A1 + 2xE1 + E2", "A1 + E1", group=tri.group),
    )


def test_float32_round_trip_restores_the_constants():
    """float64 → float32 → float64 rounds the weights but not the layers' constants, so the model
    is equivariant to float64 precision again (with rounded constants its error is ~2e-8)."""
    reference = model().double()
    tripped = model().double().float().double()
    constants = {name: b for name, b in reference.named_buffers() if b.is_floating_point()}
    assert constants  # the check below is not vacuous
    for name, b in tripped.named_buffers():
        if b.is_floating_point():
            assert b.dtype == torch.float64
            assert torch.equal(b, constants[name]), name
    assert_equivariant(tripped)
    assert all(p.dtype == torch.float64 for p in tripped.parameters())


def test_constants_follow_repeated_conversions():
    layer = Linear(RepType(permutation_representation(D4, square().stencil(1.0).action)), "A1 + E", group=D4)
    exact = layer.q_in_inv.clone()
    for dtype in (torch.float32, torch.float16, torch.float64, torch.float32):
        layer.to(dtype)
        assert layer.q_in_inv.dtype == dtype
        torch.testing.assert_close(layer.q_in_inv, exact.to(dtype), rtol=0, atol=0)


def test_eval_cache_is_dropped_by_load_state_dict():
    conv = LatticeConv(LATTICE, "A1 + E", "A1 + E", 2**0.5, group=D4).double().eval()
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    conv(x)  # caches the kernel
    state = {k: torch.randn_like(v) for k, v in conv.state_dict().items()}
    conv.load_state_dict(state)
    fresh = LatticeConv(LATTICE, "A1 + E", "A1 + E", 2**0.5, group=D4).double()
    fresh.load_state_dict(state)
    np.testing.assert_allclose(conv(x).detach(), fresh(x).detach(), atol=1e-12)


def test_eval_cache_follows_dtype_conversions():
    conv = LatticeConv(LATTICE, "A1 + E", "A1 + E", 2**0.5, group=D4).float().eval()
    x = torch.randn(2, 3, 6, 6)
    conv(x)  # caches a float32 kernel
    conv.double()
    y = conv(x.double())  # a stale float32 kernel would be off by ~1e-7
    np.testing.assert_allclose(y.detach(), conv.export()(x.double()).detach(), atol=1e-12)


def test_eval_cache_follows_an_optimiser_step():
    conv = LatticeConv(LATTICE, "A1 + E", "A1 + E", 2**0.5, group=D4).double().eval()
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    conv(x)
    optimiser = torch.optim.SGD(conv.parameters(), lr=0.1)
    conv.linear.weight.grad = torch.ones_like(conv.linear.weight)
    optimiser.step()
    np.testing.assert_allclose(conv(x).detach(), conv.export()(x).detach(), atol=1e-12)


def test_eval_mode_gradients_reach_the_input_never_the_weights():
    """Every eval-mode call uses the detached cached kernel, the first one too."""
    conv = LatticeConv(LATTICE, "A1", "A1 + E", 2**0.5, group=D4).double().eval()
    for _ in range(2):
        x = torch.randn(1, 1, 6, 6, dtype=torch.float64, requires_grad=True)
        conv(x).sum().backward()
        assert conv.linear.weight.grad is None
        assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (LatticeConv(LATTICE, "A1", "A1 + E", 1.0, group=D4), (2, 1, 6, 6)),
        (LatticeConv(PeriodicLattice(honeycomb(), 3), "A1", "A1", 1.0, group=honeycomb().group),
         (2, 1, 2, 3, 3)),
        (Neighbourhood(LATTICE, D4, 1.0), (2, 1, 6, 6)),
        (Linear("2xA1", "A1", group=D4), (2, 2)),
        (TensorSquare("2xA1", group=D4), (2, 2)),
        (Activation("A1", torch.tanh, group=D4), (2, 1)),
        (Gate("A1", torch.tanh, "A1", torch.sigmoid, "B1", group=D4), (2, 3)),
        (NormActivation("E", torch.tanh, group=D4), (2, 2)),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, torch.nn.Module) else "",
)
def test_integer_fields_are_refused(layer, shape):
    """An integer field would be multiplied by truncated constants (silently all zeros)."""
    with pytest.raises(TypeError, match=r"takes a floating-point field, got torch.int64"):
        layer(torch.ones(shape, dtype=torch.long))


def test_integer_second_input_of_a_tensor_product_is_refused():
    tp = FullyConnectedTensorProduct("A1", "A1", "A1", group=D4)
    with pytest.raises(TypeError, match="floating-point"):
        tp(torch.ones(2, 1), torch.ones(2, 1, dtype=torch.int32))


def test_element_index_must_be_an_integer():
    irreps = Irreps("E", D4)
    torch.testing.assert_close(irreps.D(np.int64(1)), irreps.D(1))
    torch.testing.assert_close(irreps.D(torch.tensor(1)), irreps.D(1))
    with pytest.raises(TypeError, match=r"element index must be an integer, got 1\.5"):
        irreps.D(1.5)


def test_deepcopy_after_conversion_keeps_exact_constants():
    tripped = copy.deepcopy(model().double().float()).double()
    assert_equivariant(tripped)
