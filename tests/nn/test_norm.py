"""BatchNorm: equivariance on every group element, torch's BatchNorm/InstanceNorm on scalars, refusals."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latsym.group import Z2, permutation_representation, point_group
from latsym.lattice import PeriodicLattice, honeycomb, square, triangular
from latsym.nn import BatchNorm, Irreps, LatticeConv, RepType, Sequential
from latsym.testing import assert_equivariant, groups, irreps

D4Z2 = point_group("4mm", dim=2) * Z2()
C6vZ2 = point_group("6mm", dim=2) * Z2()
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)
FIELD = "2xA1:even + A1:odd + E:odd + 2xE:even + B1:odd"


def _trained(bn: BatchNorm, dtype, steps: int = 3, shape=(4, 5, 5)) -> BatchNorm:
    """``bn`` after a few training steps on shifted, scaled fields (non-trivial running statistics)."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(steps):
            x = 3 * bn.irreps_in.randn(shape[0], -1, *shape[1:], generator=gen, dtype=dtype) + 1
            bn(x)
        if bn.weight is not None:
            bn.weight.uniform_(0.5, 2.0, generator=gen)
            bn.bias.uniform_(-1.0, 1.0, generator=gen)
    return bn


@pytest.mark.parametrize("mode", ["train", "eval", "instance"])
@fixture_ok
@given(seed=st.integers(0, 2**31 - 1))
def test_equivariant_on_lattice_fields(dtype, mode, seed):
    """Every element of D4 × Z2 and the lattice translations, in each mode."""
    bn = BatchNorm(FIELD, group=D4Z2, instance=mode == "instance").to(dtype)
    _trained(bn, dtype)
    bn.train(mode != "eval")
    report = assert_equivariant(bn, dtype=dtype, lattice=PeriodicLattice(square(), 4), batch=3, seed=seed)
    assert len(report.errors) == 16 + 3


def test_equivariant_in_a_stack_on_the_triangular_lattice(dtype):
    lattice = PeriodicLattice(triangular(), 4)
    conv = LatticeConv(lattice, "A1:odd", "2xA1:even + A1:odd + E1:odd + E2:even", 1.0, group=C6vZ2)
    model = Sequential(conv, BatchNorm(conv.irreps_out, instance=True)).to(dtype)
    assert_equivariant(model, dtype=dtype)


@pytest.mark.parametrize("instance", [False, True])
def test_equivariant_on_a_lattice_with_a_basis(dtype, instance):
    """Honeycomb fields (batch, channels, 2, L, L): the statistics pool both sublattices."""
    G = honeycomb().group * Z2()
    bn = BatchNorm("2xA1:even + A1:odd + E:odd + E:even", group=G, instance=instance).to(dtype)
    _trained(bn, dtype, shape=(4, 2, 3, 3))
    assert_equivariant(bn, dtype=dtype, lattice=PeriodicLattice(honeycomb(), 3))


@fixture_ok
@given(st.data())
def test_equivariant_on_many_groups(dtype, data):
    """Per-site features of any group (complex and quaternionic irreps included), train and eval."""
    G = data.draw(groups())
    field = data.draw(irreps(G))
    normalization = data.draw(st.sampled_from(["component", "norm"]))
    bn = _trained(BatchNorm(field, normalization=normalization).to(dtype), dtype, shape=(5,))
    for training in (True, False):
        bn.train(training)
        assert_equivariant(bn, dtype=dtype, batch=4)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
def test_invariant_scalars_are_torch_batchnorm(momentum):
    """On trivial irreps only, outputs and running statistics equal torch.nn.BatchNorm2d's."""
    bn = BatchNorm("3xA1:even", group=D4Z2, momentum=momentum).double()
    ref = torch.nn.BatchNorm2d(3, momentum=momentum).double()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 2.0, generator=gen)
        ref.bias.uniform_(-1.0, 1.0, generator=gen)
        bn.weight.copy_(ref.weight)
        bn.bias.copy_(ref.bias)
    for _ in range(3):
        x = 2 * torch.randn(4, 3, 5, 5, generator=gen, dtype=torch.float64) - 1
        torch.testing.assert_close(bn(x), ref(x), rtol=0, atol=1e-12)
    torch.testing.assert_close(bn.running_mean, ref.running_mean, rtol=0, atol=1e-12)
    torch.testing.assert_close(bn.running_var, ref.running_var, rtol=0, atol=1e-12)
    assert int(bn.num_batches_tracked) == int(ref.num_batches_tracked) == 3
    bn.eval(), ref.eval()
    x = torch.randn(2, 3, 5, 5, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(bn(x), ref(x), rtol=0, atol=1e-12)


def test_large_means_keep_their_precision_in_float32():
    """Mean 10⁴, spread 1: the variance is taken about the mean (two passes), not as E[x²] − E[x]²,
    which would lose every digit in float32."""
    x = 1e4 + torch.randn(16, 2, 8, 8, dtype=torch.float64)
    exact = BatchNorm("2xA1", group=point_group("4mm", dim=2)).double()(x).detach()
    single = BatchNorm("2xA1", group=point_group("4mm", dim=2))(x.float()).detach()
    torch.testing.assert_close(single.double(), exact, rtol=0, atol=5e-3)


def test_invariant_scalars_are_torch_instance_norm():
    bn = BatchNorm("2xA1", group=point_group("4mm", dim=2), instance=True).double()
    ref = torch.nn.InstanceNorm2d(2, affine=True).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor([0.5, 2.0]))
        ref.bias.copy_(torch.tensor([1.0, -3.0]))
        bn.weight.copy_(ref.weight)
        bn.bias.copy_(ref.bias)
    x = 3 * torch.randn(3, 2, 6, 7, dtype=torch.float64) + 2
    torch.testing.assert_close(bn(x), ref(x), rtol=0, atol=1e-12)
    bn.eval()  # instance normalisation keeps using the sample's own statistics
    torch.testing.assert_close(bn(x), ref(x), rtol=0, atol=1e-12)
    assert bn.running_mean is None and "running_var" not in bn.state_dict()


@pytest.mark.parametrize(("normalization", "per_copy"), [("component", 2.0), ("norm", 1.0)])
def test_non_trivial_copies_are_scaled_not_centred(normalization, per_copy):
    """E copies get unit mean square per component ('component') or norm ('norm'); an offset in an
    odd or non-trivial copy survives (centring it would break equivariance)."""
    bn = BatchNorm("A1:odd + E:even", group=D4Z2, normalization=normalization, eps=1e-12).double()
    x = torch.randn(64, 3, 8, 8, dtype=torch.float64) * torch.tensor([2.0, 3.0, 0.5]).view(1, 3, 1, 1)
    x[:, 0] += 5.0
    y = bn(x).detach()
    mean_square_norm = y[:, 1:].square().sum(1).mean()
    torch.testing.assert_close(mean_square_norm, torch.tensor(per_copy, dtype=torch.float64))
    torch.testing.assert_close(y[:, 0].square().mean(), torch.tensor(1.0, dtype=torch.float64))
    assert float(y[:, 0].mean()) > 0.9  # not centred: 5 / sqrt(5² + 2²) ≈ 0.93
    # the E copy is one unit: both components are divided by the same number
    torch.testing.assert_close(y[:, 1] / x[:, 1], y[:, 2] / x[:, 2])


def test_eval_mode_is_per_sample_and_running_stats_match_the_data():
    bn = BatchNorm("A1 + E", group=point_group("4mm", dim=2), momentum=None).double()
    gen = torch.Generator().manual_seed(3)
    data = torch.randn(400, 3, 4, 4, generator=gen, dtype=torch.float64) * 2 + torch.tensor([1.0, 0, 0]).view(
        1, 3, 1, 1)
    for chunk in data.split(50):
        bn(chunk)
    torch.testing.assert_close(bn.running_mean, data[:, :1].mean().reshape(1), atol=1e-12, rtol=0)
    assert abs(float(bn.running_var[1]) - 4.0) < 0.1  # E: mean square per component of N(0, 2²)
    bn.eval()
    x = torch.randn(5, 3, 4, 4, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(bn(x)[:2], bn(x[:2]), rtol=0, atol=1e-14)


def test_channels_last_and_no_affine(dtype):
    bn = BatchNorm(FIELD, group=D4Z2, channel_dim=-1, affine=False).to(dtype)
    x = bn.irreps_in.randn(3, 5, 5, -1, dtype=dtype)
    ref = BatchNorm(FIELD, group=D4Z2, affine=False).to(dtype)
    torch.testing.assert_close(bn(x), ref(x.movedim(-1, 1)).movedim(1, -1))
    assert bn.weight is None and bn.bias is None and not list(bn.parameters())


def test_state_dict_round_trip_and_reset():
    bn = _trained(BatchNorm(FIELD, group=D4Z2), torch.float32)
    copy = BatchNorm(FIELD, group=D4Z2)
    copy.load_state_dict(bn.state_dict())
    bn.eval(), copy.eval()
    x = bn.irreps_in.randn(2, -1, 3, 3)
    torch.testing.assert_close(copy(x), bn(x), rtol=0, atol=0)
    bn.reset_running_stats()
    assert float(bn.running_mean.abs().max()) == 0 and float((bn.running_var - 1).abs().max()) == 0


def test_gradients_flow_through_the_statistics():
    bn = BatchNorm("A1 + E", group=point_group("4mm", dim=2)).double()
    x = torch.randn(3, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: bn(t).square().sin().sum(), (x,))


def test_bad_arguments():
    G = point_group("4mm", dim=2)
    assert BatchNorm("A1", group=G, eps=np.float32(1e-3), momentum=np.float64(0.2)).momentum == 0.2
    for eps in (0, -1e-5, "small", True):
        with pytest.raises(ValueError, match="eps must be a positive number"):
            BatchNorm("A1", group=G, eps=eps)
    for momentum in (0, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"momentum must be in \(0, 1\]"):
            BatchNorm("A1", group=G, momentum=momentum)
    with pytest.raises(ValueError, match="normalization must be one of"):
        BatchNorm("A1", group=G, normalization="l2")
    rho = permutation_representation(G, square().stencil(1.0).action)
    with pytest.raises(TypeError, match=r"normalises Irreps fields.*change_of_basis_inv"):
        BatchNorm(RepType(rho))
    assert BatchNorm(Irreps("E", G)).irreps_out == Irreps("E", G)


def test_bad_inputs():
    bn = BatchNorm("A1 + E", group=point_group("4mm", dim=2))
    with pytest.raises(ValueError, match="expects 3 channels on axis 1"):
        bn(torch.randn(2, 4, 3, 3))
    with pytest.raises(TypeError, match="floating-point"):
        bn(torch.ones(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"more than one value per channel.*call \.eval"):
        bn(torch.randn(1, 3))
    bn.eval()
    assert bn(torch.randn(1, 3)).shape == (1, 3)  # running statistics need no batch
    inst = BatchNorm("A1 + E", group=point_group("4mm", dim=2), instance=True)
    with pytest.raises(ValueError, match="instance normalisation needs site axes"):
        inst(torch.randn(4, 3))
    with pytest.raises(ValueError, match="more than one value per channel"):
        inst(torch.randn(4, 3, 1, 1))
