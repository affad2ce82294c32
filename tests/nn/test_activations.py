"""Nonlinearities: parity rules, gates, norm activations, permutation fields, refusals."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latsym.group import Z2, permutation_representation, point_group, real_irreps, vector_representation
from latsym.lattice import PeriodicLattice, square
from latsym.nn import Activation, Gate, Irreps, Norm, NormActivation, RepType, is_trivial, parity
from latsym.testing import assert_equivariant, groups, irreps

D4 = point_group("4mm", dim=2)
D4Z2 = D4 * Z2()
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)


def test_parity():
    assert parity(torch.tanh) == -1 and parity(torch.sin) == -1 and parity(lambda x: x**3) == -1
    assert parity(torch.cos) == 1 and parity(torch.abs) == 1 and parity(lambda x: x**2) == 1
    assert parity(torch.relu) == 0 and parity(torch.sigmoid) == 0 and parity(torch.exp) == 0


def test_activation_parity_rules_and_output_irreps():
    act = Activation("2xA1 + B1 + B2 + A2", [torch.relu, torch.tanh, torch.cos, None], group=D4)
    assert act.irreps_out == Irreps("2xA1 + B1 + A1 + A2", D4)
    assert_equivariant(act.to(torch.float64))


def test_odd_activation_on_internal_odd_field(dtype):
    """tanh on a field odd under Z2 and trivial under the point group keeps it odd."""
    act = Activation("3xA1:odd + 2xA1:even", [torch.tanh, torch.relu], group=D4Z2)
    assert act.irreps_out == Irreps("3xA1:odd + 2xA1:even", D4Z2)
    assert_equivariant(act, dtype=dtype, lattice=PeriodicLattice(square(), 3))
    assert Activation("A1:odd", torch.abs, group=D4Z2).irreps_out == Irreps("A1:even", D4Z2)


@pytest.mark.parametrize(
    ("irreps", "f", "match"),
    [
        ("A1:odd", torch.relu, "relu is neither odd nor even.*A1:odd"),
        ("A1:odd", torch.sigmoid, "sigmoid is neither odd nor even"),
        ("E:even", torch.tanh, "2-dimensional irrep E:even.*NormActivation or Gate"),
    ],
)
def test_activation_refuses_what_breaks_equivariance(irreps, f, match):
    with pytest.raises(ValueError, match=match):
        Activation(irreps, f, group=D4Z2)


def test_activation_bad_arguments():
    with pytest.raises(ValueError, match="2 activations for the 1 terms"):
        Activation("A1", [torch.relu, torch.relu], group=D4)
    with pytest.raises(ValueError, match="expects 2 channels"):
        Activation("2xA1", torch.relu, group=D4)(torch.randn(3, 3))


def test_pointwise_on_permutation_fields(dtype):
    rho = permutation_representation(D4, square().stencil(2**0.5).action)
    act = Activation(RepType(rho, mul=2), torch.relu)
    assert act.irreps_out == act.irreps_in
    assert_equivariant(act, dtype=dtype)
    with pytest.raises(ValueError, match="permutation fields only"):
        Activation(RepType(vector_representation(D4)), torch.relu)
    with pytest.raises(TypeError, match="one callable"):
        Activation(RepType(rho), [torch.relu])


@fixture_ok
@given(st.data())
def test_gate_equivariant_on_many_groups(dtype, data):
    G = data.draw(groups())
    gated = data.draw(irreps(G, max_terms=3))
    scalar = next(r for r in real_irreps(G) if is_trivial(r))
    trivial = Irreps([(2, scalar)], G)
    gates = Irreps([(gated.num_irreps, scalar)], G)
    gate = Gate(trivial, torch.relu, gates, torch.sigmoid, gated)
    assert gate.irreps_out == (trivial + gated).simplify()
    assert_equivariant(gate, dtype=dtype)


def test_gate_odd_field_by_even_scalar_and_odd_gates(dtype):
    gate = Gate("A1:even + A1:odd", [torch.relu, torch.tanh], "2xA1:even + A1:odd",
                [torch.sigmoid, torch.tanh], "E:odd + A1:odd + E:odd", group=D4Z2)
    # even gates keep the gated irrep; the odd gate (tanh) times E:odd gives E:even
    assert gate.irreps_out == Irreps("A1:even + A1:odd + E:odd + A1:odd + E:even", D4Z2)
    assert_equivariant(gate, dtype=dtype, lattice=PeriodicLattice(square(), 3))


def test_gate_values():
    gate = Gate("A1", torch.relu, "A1", torch.sigmoid, "E", group=D4).to(torch.float64)
    x = torch.tensor([[-1.0, 0.5, 2.0, -3.0]], dtype=torch.float64)
    s = 1 / (1 + np.exp(-0.5))
    np.testing.assert_allclose(gate(x).numpy(), [[0.0, 2.0 * s, -3.0 * s]], atol=1e-12)


def test_gate_refusals():
    with pytest.raises(ValueError, match="one gate per gated copy: 1 gates"):
        Gate("A1", torch.relu, "A1", torch.sigmoid, "2xE", group=D4)
    with pytest.raises(ValueError, match="B1 times E is not one of the core's irreps"):
        Gate("", None, "B1", torch.tanh, "E", group=D4)
    with pytest.raises(ValueError, match="neither odd nor even"):
        Gate("A1:odd", torch.relu, "A1:even", torch.sigmoid, "E:odd", group=D4Z2)


@fixture_ok
@given(st.data())
def test_norm_activation_equivariant_on_many_groups(dtype, data):
    G = data.draw(groups())
    ir = data.draw(irreps(G))
    torch.manual_seed(0)
    act = NormActivation(ir, torch.sigmoid, bias=True).to(dtype)
    with torch.no_grad():
        act.bias.normal_()
    assert_equivariant(act, dtype=dtype)
    assert_equivariant(NormActivation(ir, torch.tanh, normalize=False), dtype=dtype)


def test_norm_activation_values_and_zero_input():
    act = NormActivation("E + A1", torch.sigmoid, group=D4).to(torch.float64)
    x = torch.tensor([[3.0, 4.0, -2.0]], dtype=torch.float64, requires_grad=True)
    s5, s2 = torch.sigmoid(torch.tensor(5.0)), torch.sigmoid(torch.tensor(2.0))
    np.testing.assert_allclose(act(x).detach().numpy(), [[0.6 * s5, 0.8 * s5, -s2]], atol=1e-12)
    zero = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    act(zero).sum().backward()
    assert torch.all(torch.isfinite(zero.grad))


def test_norm_activation_bias_per_copy_on_lattice_fields_and_channels_last():
    """Each copy gets its own bias, whichever axis holds the channels."""
    act = NormActivation("E + A1 + E", torch.sigmoid, bias=True, group=D4).to(torch.float64)
    with torch.no_grad():
        act.bias.copy_(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
    x = torch.tensor([3.0, 4.0, -2.0, 0.0, 1.0], dtype=torch.float64).view(1, 5, 1, 1).expand(2, 5, 3, 3)
    norms = torch.tensor([5.0, 2.0, 1.0], dtype=torch.float64)
    factors = torch.sigmoid(norms + act.bias.detach()) / norms
    expected = x * factors[[0, 0, 1, 2, 2]].view(1, 5, 1, 1)
    torch.testing.assert_close(act(x), expected)
    last = NormActivation("E + A1 + E", torch.sigmoid, bias=True, channel_dim=-1, group=D4).double()
    last.load_state_dict(act.state_dict())
    torch.testing.assert_close(last(x.movedim(1, -1)), expected.movedim(1, -1))


@fixture_ok
@given(st.data())
def test_norm_is_invariant_on_many_groups(dtype, data):
    G = data.draw(groups())
    field = data.draw(irreps(G))
    squared = data.draw(st.booleans())
    norm = Norm(field, squared=squared)
    trivial = next(r for r in real_irreps(G) if is_trivial(r))
    assert norm.irreps_out == Irreps([(field.num_irreps, trivial)], G)
    assert_equivariant(norm, dtype=dtype)


def test_norm_values_on_lattice_fields(dtype):
    G = D4Z2
    norm = Norm("A1:odd + E:even + B1:odd", group=G)
    x = torch.tensor([-2.0, 3.0, -4.0, 0.5], dtype=dtype).view(1, 4, 1, 1).expand(2, 4, 3, 3)
    expected = torch.tensor([2.0, 5.0, 0.5], dtype=dtype).view(1, 3, 1, 1).expand(2, 3, 3, 3)
    torch.testing.assert_close(norm(x), expected)
    torch.testing.assert_close(Norm(norm.irreps_in, squared=True)(x), expected.square())
    last = Norm(norm.irreps_in, channel_dim=-1)(x.movedim(1, -1))
    torch.testing.assert_close(last, expected.movedim(1, -1))
    assert_equivariant(norm, dtype=dtype, lattice=PeriodicLattice(square(), 3))


def test_norm_smooth_at_zero_and_refusals():
    x = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
    Norm("E", group=D4, epsilon=1e-3)(x).sum().backward()
    assert torch.isfinite(x.grad).all() and float(x.grad.abs().max()) == 0
    with pytest.raises(ValueError, match="epsilon must be a number >= 0"):
        Norm("E", group=D4, epsilon=-1.0)
    with pytest.raises(ValueError, match="expects 2 channels"):
        Norm("E", group=D4)(torch.randn(3, 3))
