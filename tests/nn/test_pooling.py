"""LatticePool, and assert_equivariant on outputs pooled over the sites."""

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latsym.group import Z2, permutation_representation, point_group
from latsym.lattice import PeriodicLattice, honeycomb, square
from latsym.nn import Gate, Irreps, LatticeConv, LatticePool, RepType, Sequential
from latsym.testing import assert_equivariant

D4 = point_group("4mm", dim=2)
D4Z2 = D4 * Z2()
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10)


def _energy_model(reduce: str, lattice: PeriodicLattice, seed: int = 0) -> Sequential:
    """Q (A1:odd) → convolution → gate with even functions (cos) → a head with an even site energy
    (A1:even) and an odd vector (E:odd), pooled over the sites; weights drawn from ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        conv = LatticeConv(lattice, "A1:odd", "4xA1:odd + 2xE:odd", 2**0.5, group=D4Z2)
        gate = Gate("2xA1:odd", torch.cos, "2xA1:odd", torch.cos, "2xE:odd", group=D4Z2)
        head = LatticeConv(lattice, gate.irreps_out, "A1:even + E:odd", 1.0, group=D4Z2)
    return Sequential(conv, gate, head, LatticePool(head.irreps_out, reduce=reduce))


@pytest.mark.parametrize("reduce", ["mean", "sum"])
@fixture_ok
@given(seed=st.integers(0, 2**31 - 1))
def test_pooled_model_is_invariant_and_covariant(dtype, reduce, seed):
    """Every element of 4mm × Z2 (the pooled E:odd copy rotates and flips with Q) and translations."""
    model = _energy_model(reduce, PeriodicLattice(square(), 4), seed).to(dtype)
    report = assert_equivariant(model, dtype=dtype, seed=seed, batch=3)
    assert len(report.errors) == 16 + 3


def test_the_pooled_vector_is_not_zero():
    """The check above would pass a model whose pooled E copy vanished identically (as the pooled
    gradient of a linear map does): this one's does not."""
    model = _energy_model("mean", PeriodicLattice(square(), 4)).double()
    q = torch.randn(4, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    pooled = model(q).detach()
    assert pooled.shape == (4, 3) and float(pooled[:, 1:].norm(dim=1).min()) > 1e-3


def test_sum_is_extensive_and_mean_intensive():
    x = torch.randn(3, 2, 6, 6, dtype=torch.float64)
    tiled = x.repeat(1, 1, 2, 2)  # the same configuration on a lattice four times larger
    mean, total = LatticePool("2xA1", group=D4), LatticePool("2xA1", reduce="sum", group=D4)
    torch.testing.assert_close(mean(tiled), mean(x))
    torch.testing.assert_close(total(tiled), 4 * total(x))


def test_lattice_with_a_basis_and_permutation_fields(dtype):
    lattice = PeriodicLattice(honeycomb(), 3)
    G = honeycomb().group
    conv = LatticeConv(lattice, "A1", "A1 + E", 1.0, group=G)
    assert_equivariant(Sequential(conv, LatticePool(conv.irreps_out)).to(dtype), dtype=dtype)
    rho = permutation_representation(D4, square().stencil(1.0).action)
    pool = LatticePool(RepType(rho))
    assert pool.irreps_out == pool.irreps_in
    assert_equivariant(pool, lattice=PeriodicLattice(square(), 3), dtype=dtype)


def test_assert_equivariant_catches_what_pooling_must_not_do():
    """Reading one site is not translation invariant; weighting sites by position breaks the point
    group: the pooled-output check fails for both."""
    lattice = PeriodicLattice(square(), 4)
    irreps = Irreps("A1 + E", D4)
    with pytest.raises(AssertionError, match="translation"):
        assert_equivariant(lambda x: x[:, :, 0, 0], irreps, irreps, lattice=lattice)
    weights = torch.arange(16, dtype=torch.float64).reshape(4, 4)
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(lambda x: (x * weights).sum(dim=(2, 3)), irreps, irreps, lattice=lattice,
                           translations=None)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="reduce must be one of"):
        LatticePool("A1", reduce="max", group=D4)
    pool = LatticePool("A1 + E", group=D4)
    with pytest.raises(ValueError, match="per-site features have no sites to pool"):
        pool(torch.randn(4, 3))
    with pytest.raises(ValueError, match="expects 3 channels on axis 1"):
        pool(torch.randn(4, 2, 5, 5))
