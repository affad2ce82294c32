"""Linear: equivariance on many groups, completeness against the core's Hom basis, biases, norms."""

from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latsym.group import Z2, hom_basis, permutation_representation, point_group
from latsym.lattice import PeriodicLattice, square
from latsym.nn import Irreps, Linear, RepType, Sequential
from latsym.testing import assert_equivariant, groups, irreps, quaternion_group

D4 = point_group("4mm", dim=2)
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)


@fixture_ok
@given(st.data())
def test_equivariant_on_many_groups(dtype, data):
    G = data.draw(groups())
    ir_in, ir_out = data.draw(irreps(G)), data.draw(irreps(G))
    torch.manual_seed(0)
    lin = Linear(ir_in, ir_out, bias=True, allow_zero=True).to(dtype)  # the draws may share no irrep
    with torch.no_grad():
        lin.bias.normal_()
    assert_equivariant(lin, dtype=dtype)


@pytest.mark.parametrize(
    ("G", "ir_in", "ir_out"),
    [
        (point_group("4", dim=2), "2xA + 3xE + B", "E + 2xA + 2xE"),  # complex type: 2 endomorphisms
        (point_group("23"), "2xE + T", "3xE + 2xT + A"),
        (quaternion_group(), "2xG5 + G1", "3xG5 + G2"),  # quaternionic: 4 endomorphisms
        (D4 * Z2(), "2xA1:odd + E:even + E:odd", "A1:odd + 2xE:odd + B1:even"),
    ],
)
def test_complete_against_core_hom_basis(G, ir_in, ir_out):
    ir_in, ir_out = Irreps(ir_in, G), Irreps(ir_out, G)
    n_hom = hom_basis(ir_in.representation(), ir_out.representation()).shape[0]
    lin = Linear(ir_in, ir_out).to(torch.float64)
    assert lin.weight_numel == n_hom
    # random weights span the whole Hom space: the maps are linearly independent in the weights
    mats = []
    for k in range(lin.weight_numel):
        with torch.no_grad():
            lin.weight.zero_()
            lin.weight[k] = 1.0
        mats.append(lin.matrix().detach().flatten().numpy())
    assert np.linalg.matrix_rank(np.array(mats), tol=1e-8) == n_hom
    assert_equivariant(lin)


def test_d2q9_leaves_15_free_weights_of_81():
    """LENN's check: a linear map between D2Q9 permutation fields under D4 has 15 free weights."""
    stencil = square().stencil(2**0.5)
    rho = permutation_representation(D4, stencil.action)
    lin = Linear(RepType(rho), RepType(rho), bias=True).to(torch.float64)
    assert lin.weight_numel == 15 == stencil.n_pair_orbits
    with torch.no_grad():
        lin.bias.normal_()
    assert_equivariant(lin)
    # in the field's own basis the matrix is constant on every orbit of index pairs
    W = lin.matrix().detach().numpy()
    for label in range(stencil.n_pair_orbits):
        values = W[stencil.pair_orbit == label]
        np.testing.assert_allclose(values, values[0], atol=1e-12)
    # the bias is invariant: the same on each orbit of points (3 free values)
    b = lin.bias_vector().detach().numpy()
    for orbit in stencil.orbits:
        np.testing.assert_allclose(b[orbit], b[orbit[0]], atol=1e-12)
    assert lin.bias.numel() == 3


def test_reptype_to_irreps_and_per_channel_pair():
    rho = permutation_representation(D4, square().stencil(1.0).action)
    lin = Linear(RepType(rho, mul=2), "3xA1 + E", group=D4).to(torch.float64)
    assert lin.weight_numel == 2 * 2 * 3 + 2 * 1  # A1 twice per copy; E once per copy
    assert_equivariant(lin)


def test_bias_only_on_trivial_irreps():
    lin = Linear("A1 + E", "2xA1 + E + B1 + A1", bias=True, group=D4)
    with torch.no_grad():
        lin.bias.fill_(1.0)
    np.testing.assert_array_equal(lin.bias_vector().detach().numpy(), [1, 1, 0, 0, 0, 1])
    assert lin.bias.numel() == 3
    assert Linear("E", "E", bias=True, group=D4).bias.numel() == 0
    assert Linear("E", "A1", group=D4, allow_zero=True).bias is None


def test_fan_in_normalisation():
    torch.manual_seed(0)
    ir_in = Irreps("40xA1 + 30xE", D4)
    lin = Linear(ir_in, "50xA1 + 50xE", group=D4)
    x = ir_in.randn(4000, -1, generator=torch.Generator().manual_seed(1))
    var = lin(x).var(dim=0).mean().item()
    assert 0.85 < var < 1.15


def test_lattice_fields_and_channel_dim():
    torch.manual_seed(0)
    lin = Linear("2xA1 + E", "A1 + 2xE", group=D4, bias=True).to(torch.float64)
    with torch.no_grad():
        lin.bias.normal_()
    assert_equivariant(lin, lattice=PeriodicLattice(square(), 4))
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64)
    last = Linear("2xA1 + E", "A1 + 2xE", group=D4, bias=True, channel_dim=-1).to(torch.float64)
    last.load_state_dict(lin.state_dict())
    np.testing.assert_allclose(last(x.movedim(1, -1)).movedim(-1, 1).detach(), lin(x).detach(), atol=1e-12)


def test_bad_input():
    lin = Linear("2xA1 + E", "A1", group=D4)
    with pytest.raises(ValueError, match="expects 4 channels on axis 1"):
        lin(torch.randn(2, 3))
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        lin(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="belong to"):
        Linear(Irreps("A1", D4), Irreps("A1", point_group("6mm", dim=2)))
    with pytest.raises(ValueError, match="belongs to C4v"):
        Linear(RepType(permutation_representation(D4, square().stencil(1.0).action)), "A1",
               group=point_group("6mm", dim=2))
    with pytest.raises(TypeError, match="needs its group"):
        Linear("A1", "A1")


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 3, 5, 6), (2, 5, 3, 4), (0, 3, 4, 4)])
def test_any_channel_axis_matches_the_channels_last_map(shape):
    """The map is the same wherever the channel axis sits (first, middle, last; empty batches)."""
    torch.manual_seed(0)
    last = Linear("A1 + E", "2xA1 + E", bias=True, channel_dim=-1, group=D4).double()
    with torch.no_grad():
        last.bias.normal_()
    axis = shape.index(3)
    moved = Linear("A1 + E", "2xA1 + E", bias=True, channel_dim=axis, group=D4).double()
    moved.load_state_dict(last.state_dict())
    x = torch.randn(shape, dtype=torch.float64)
    expected = (x.movedim(axis, -1) @ last.matrix().T + last.bias_vector()).movedim(-1, axis)
    torch.testing.assert_close(moved(x), expected)
    torch.testing.assert_close(last(x.movedim(axis, -1)).movedim(-1, axis), expected)


def test_sequential_checks_and_declares_irreps():
    a = Linear("A1 + E", "2xE", group=D4)
    b = Linear("2xE", "A2", group=D4, allow_zero=True)
    seq = Sequential(a, b)
    assert seq.irreps_in == a.irreps_in and seq.irreps_out == b.irreps_out and seq.lattice is None
    assert seq(torch.randn(3, 3)).shape == (3, 1)
    with pytest.raises(ValueError, match="outputs 2xE but Linear expects 1xA1"):
        Sequential(a, Linear("A1", "A1", group=D4))
    with pytest.raises(ValueError, match="at least one module"):
        Sequential()


def test_sequential_slices_and_named_modules():
    a, b = Linear("A1 + E", "2xE", group=D4), Linear("2xE", "A2", group=D4, allow_zero=True)
    c = Linear("A2", "A2 + A1", group=D4)
    stack = Sequential(a, b, c)
    head = stack[:2]
    assert isinstance(head, Sequential) and head.irreps_out == b.irreps_out and len(head) == 2
    x = torch.randn(3, 3)
    torch.testing.assert_close(stack[1:](head[0](x)), stack(x))
    named = Sequential(OrderedDict(encoder=a, decoder=b))
    assert named.encoder is a and named.irreps_in == a.irreps_in
    with pytest.raises(ValueError, match="outputs 2xE but Linear expects 1xA2"):
        Sequential(OrderedDict(a=a, c=c))


def test_sequential_matches_channel_layouts_not_term_splits():
    """``1xE + 1xE`` and ``2xE`` put the same irreps on the same channels; ``E + A1`` and
    ``A1 + E`` do not."""
    split = Linear("A1", "1xE + 1xE", group=D4, allow_zero=True)
    merged = Linear("2xE", "A2 + E", group=D4)
    assert Sequential(split, merged)(torch.randn(3, 1)).shape == (3, 3)
    with pytest.raises(ValueError, match="outputs 1xA2 \\+ 1xE but Linear expects 1xE \\+ 1xA2"):
        Sequential(merged, Linear("E + A2", "A1", group=D4, allow_zero=True))


@pytest.mark.parametrize(
    ("ir_in", "ir_out", "labels"),
    [("A1", "A2", "A2"), ("2xA1 + B1", "E + 2xA2", "A2, E"), ("", "A1", "A1")],
)
def test_a_map_that_is_always_zero_is_refused_unless_allowed(ir_in, ir_out, labels):
    message = rf"identically zero.*no output irrep \({labels}\) appears.*allow_zero=True"
    with pytest.raises(ValueError, match=message):
        Linear(ir_in, ir_out, group=D4)
    with pytest.raises(ValueError, match="identically zero"):
        Linear(ir_in, ir_out, group=D4, bias=True)  # a bias alone does not make it a map of the input
    zero = Linear(ir_in, ir_out, group=D4, allow_zero=True).double()
    assert zero.weight_numel == 0
    x = torch.randn(3, Irreps(ir_in, D4).dim, dtype=torch.float64)
    assert torch.count_nonzero(zero(x)) == 0


def test_maps_with_some_path_or_no_output_are_built_as_before():
    assert Linear("A1", "A1 + A2", group=D4).weight_numel == 1  # A2 unreached, A1 reached
    assert Linear("A1", "", group=D4).weight_numel == 0  # no output channels: nothing is hidden
