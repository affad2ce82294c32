"""TensorProduct, gates, norms, batch norm, dropout, pooling and whole stacks on G × SO(3) (× T)
and G × U(1) fields."""

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latsym.group import SO3, U1, GroupError, TimeReversal, point_group
from latsym.lattice import PeriodicLattice, square, triangular
from latsym.nn import (
    BatchNorm,
    Dropout,
    FullyConnectedTensorProduct,
    Gate,
    Irreps,
    LatticePool,
    Linear,
    Norm,
    NormActivation,
    Restrict,
    Sequential,
    TensorProduct,
    TensorSquare,
)
from latsym.testing import EquivarianceError, assert_equivariant, irreps, layer_stacks, lie_groups

C6V = point_group("6mm", dim=2)
D4 = point_group("4mm", dim=2)
MAGNETIC = C6V * SO3() * TimeReversal()
CHARGE = D4 * U1()
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=6,
                      deadline=None)


@fixture_ok
@given(st.data())
def test_fully_connected_tensor_product(dtype, data):
    P = data.draw(lie_groups())
    a, b, c = (data.draw(irreps(P, max_mul=2, max_terms=3)) for _ in range(3))
    tp = FullyConnectedTensorProduct(a, b, c)
    if tp.weight_numel == 0:
        return
    assert_equivariant(tp.to(dtype), dtype=dtype, samples=3)


@fixture_ok
@given(st.data())
def test_tensor_square_outputs_every_product(dtype, data):
    P = data.draw(lie_groups())
    ir = data.draw(irreps(P, max_mul=2, max_terms=2))
    sq = TensorSquare(ir, distinct_pairs=False)
    assert_equivariant(sq.to(dtype), dtype=dtype, samples=3)


def test_coupling_spins_follows_the_triangle_rule():
    tp = TensorProduct("A1:1:odd", "A1:1:odd", "A1:0:even + A1:1:even + A1:2:even",
                       [(0, 0, 0), (0, 0, 1), (0, 0, 2)], group=MAGNETIC)
    assert tp.weight_numel == 3  # one CG copy each: dot, cross and the symmetric traceless part
    with pytest.raises(ValueError, match="A1:1:odd x A1:1:odd does not contain A1:3:even"):
        TensorProduct("A1:1:odd", "A1:1:odd", "A1:3:even", [(0, 0, 0)], group=MAGNETIC)
    with pytest.raises(ValueError, match="does not contain A1:0:odd"):  # T-odd × T-odd is even
        TensorProduct("A1:1:odd", "A1:1:odd", "A1:0:odd", [(0, 0, 0)], group=MAGNETIC)
    with pytest.raises(ValueError, match="A1:1 x A1:1 contains A1:0 2 times"):  # Re and Im of z1 z̄2
        TensorProduct("A1:1", "A1:1", "A1:0", [(0, 0, 0, "uvw", False)], group=CHARGE)


def test_dot_product_of_spins_is_the_invariant_coupling():
    tp = TensorProduct("A1:1:odd", "A1:1:odd", "A1:0:even", [(0, 0, 0, "uvw", False)], group=MAGNETIC)
    s1, s2 = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(tp.double()(s1, s2)[:, 0], -(s1 * s2).sum(-1) / 3**0.5)  # Condon–Shortley


@fixture_ok
@given(st.data())
def test_gate_norm_activation_and_norm(dtype, data):
    P = data.draw(lie_groups())
    gated = data.draw(irreps(P, max_mul=2, max_terms=3))
    scalar = Irreps("A1:0:even" if len(P.factors) == 3 else "A1:0", P)
    gate = Gate(scalar * 2, torch.tanh, scalar * gated.num_irreps, torch.sigmoid, gated)
    assert_equivariant(gate.to(dtype), dtype=dtype, samples=3)
    act = NormActivation(gated, torch.sigmoid, bias=True)
    with torch.no_grad():
        act.bias.normal_()
    assert_equivariant(act.to(dtype), dtype=dtype, samples=3)
    norm = Norm(gated, squared=data.draw(st.booleans()))
    assert norm.irreps_out.is_scalar() and norm.irreps_out.num_irreps == gated.num_irreps
    assert_equivariant(norm.to(dtype), dtype=dtype, samples=3)


def test_odd_gates_flip_time_reversal():
    gate = Gate("A1:0:odd", torch.tanh, "A1:0:odd", torch.tanh, "A1:1:odd", group=MAGNETIC)
    assert str(gate.irreps_out) == "1xA1:0:odd + 1xA1:1:even"
    assert_equivariant(gate.double(), samples=3)


def test_pointwise_functions_on_spins_are_refused():
    with pytest.raises(ValueError, match="3-dimensional irrep A1:1:odd breaks equivariance"):
        Gate("A1:1:odd", torch.tanh, "", torch.tanh, "", group=MAGNETIC)
    with pytest.raises(ValueError, match=r"relu is neither odd nor even.*A1:0:odd"):
        Gate("A1:0:odd", torch.relu, "", torch.tanh, "", group=MAGNETIC)
    with pytest.raises(ValueError, match="gate in B1:0:odd times E1:1:odd is not one of the core's irreps"):
        Gate("", torch.tanh, "B1:0:odd", torch.tanh, "E1:1:odd", group=MAGNETIC)


@fixture_ok
@given(st.data())
def test_batch_norm_centres_invariant_copies_only(dtype, data):
    P = data.draw(lie_groups())
    ir = data.draw(irreps(P, max_mul=2, max_terms=3))
    bn = BatchNorm(ir)
    assert bn.running_mean.numel() == sum(mul for mul, irrep in ir if irrep.dim == 1 and
                                          all(x in (0, "A1", "even") for x in irrep.label))
    bn = bn.eval().to(dtype)
    with torch.no_grad():
        bn.running_mean.uniform_(-1.0, 1.0)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.uniform_(-1.0, 1.0)
    assert_equivariant(bn, dtype=dtype, samples=3)
    train = BatchNorm(ir).train().to(dtype)
    assert_equivariant(train, dtype=dtype, samples=3, batch=4)  # batch statistics are invariant too


def test_dropout_drops_whole_spins():
    drop = Dropout("4xA1:1:odd", group=MAGNETIC, p=0.5).train()
    torch.manual_seed(0)
    y = drop(torch.ones(64, 12))
    per_copy = y.reshape(64, 4, 3)
    assert torch.all((per_copy == 0).all(-1) | (per_copy == 2).all(-1))


def test_pooling_is_invariant_under_translations_and_spin_rotations():
    lattice = PeriodicLattice(triangular(), 4)
    pool = LatticePool("A1:1:odd + A1:0:even", group=MAGNETIC)
    assert_equivariant(pool, lattice=lattice, samples=3)
    assert_equivariant(pool.float(), lattice=lattice, samples=3, dtype=torch.float32)


@settings(max_examples=4, deadline=None)
@given(data=st.data(), kind=st.sampled_from(["magnetic", "charge"]))
def test_random_lattice_stacks(data, kind):
    P, lattice = ((MAGNETIC, PeriodicLattice(triangular(), 4)) if kind == "magnetic"
                  else (CHARGE, PeriodicLattice(square(), 4)))
    stack = data.draw(layer_stacks(P, lattice=lattice, depth=(1, 2), max_mul=1))
    assert_equivariant(stack, samples=2)


# -- Restrict: SO(3) → U(1) about z (a magnetic field along z), finite factors as for finite groups --


@fixture_ok
@given(data=st.data(), sub=st.sampled_from(["6mm", "2mm", "3m"]))
def test_restrict_spin_rotations_to_the_axial_subgroup(dtype, data, sub):
    field = data.draw(irreps(MAGNETIC, max_mul=2, max_terms=3, max_l=3))
    H = point_group(sub, dim=2) * U1() * TimeReversal()
    restrict = Restrict(field, H)
    assert restrict.irreps_out.group == H and restrict.irreps_out.dim == field.dim
    assert_equivariant(restrict.to(dtype), restrict.input_type, restrict.irreps_out, dtype=dtype, samples=4)
    Q = restrict.change_of_basis_inv
    assert torch.allclose(Q @ Q.T, torch.eye(field.dim, dtype=Q.dtype), atol=1e-6)


def test_restrict_branches_l_into_charges():
    H = C6V * U1() * TimeReversal()
    restrict = Restrict("A1:2:odd", H, group=MAGNETIC)
    assert str(restrict.irreps_out) == "1xA1:1:odd + 1xA1:2:odd + 1xA1:0:odd"  # m = ±1, ±2, 0
    assert torch.equal(restrict.change_of_basis_inv, torch.eye(5, dtype=torch.float64))  # the real basis


def test_restricted_stack_mixes_what_so3_kept_apart():
    """After the field, S_z (charge 0) and an invariant scalar may be mixed by a Linear."""
    H = C6V * U1() * TimeReversal()
    restrict = Restrict("A1:1:odd + A1:0:odd", H, group=MAGNETIC)
    mix = Linear(restrict.irreps_out, "A1:0:odd", group=H).double()
    assert mix.weight_numel == 2  # S_z and the T-odd scalar
    stack = Sequential(restrict, mix)
    assert_equivariant(stack, restrict.input_type, mix.irreps_out, samples=4)
    with pytest.raises(EquivarianceError):  # but it is not SO(3)-equivariant any more
        assert_equivariant(stack, Irreps("A1:1:odd + A1:0:odd", MAGNETIC),
                           Irreps("A1:0:odd", MAGNETIC), samples=4)


@pytest.mark.parametrize(("subgroup", "error", "match"), [
    (C6V * TimeReversal(), TypeError, "one factor per factor"),  # finite: not a subgroup description
    (C6V * U1(), GroupError, "has 2 factors but"),
    (C6V * SO3("other") * TimeReversal(), GroupError, "cannot restrict SO3 to other"),
    (point_group("4mm", dim=2) * U1() * TimeReversal(), GroupError, "not a subgroup"),
])
def test_restrict_refuses_what_is_not_a_subgroup(subgroup, error, match):
    with pytest.raises(error, match=match):
        Restrict("A1:1:odd", subgroup, group=MAGNETIC)


def test_gate_without_extra_scalars():
    """Only gates and gated spins (no free scalars): the empty scalar part passes through."""
    gate = Gate("", torch.tanh, "2xA1:0:even", torch.sigmoid, "A1:1:odd + A1:2:even", group=MAGNETIC).double()
    assert str(gate.irreps_out) == "1xA1:1:odd + 1xA1:2:even"
    assert gate(torch.randn(4, 10, dtype=torch.float64)).shape == (4, 8)
    assert_equivariant(gate, samples=3)
