"""A local spin energy invariant under 6mm × SO(3) × T on the triangular lattice, and its field
−∂E/∂S (the effective field of spin dynamics) equivariant: the pattern a spin-model plugin uses."""

import pytest
import torch

from latsym.group import SO3, TimeReversal, point_group
from latsym.lattice import PeriodicLattice, triangular
from latsym.nn import Gate, Irreps, LatticeConv, Linear, Norm, TensorProduct
from latsym.testing import EquivarianceError, assert_equivariant

P = point_group("6mm", dim=2) * SO3() * TimeReversal()
LATTICE = PeriodicLattice(triangular(), 4)
SPIN = Irreps("A1:1:odd", P)  # a classical spin per site: invariant under 6mm, a vector, T-odd


class SpinEnergy(torch.nn.Module):
    """E(S) = Σ_sites e(S, h), with h = LatticeConv(S) exchange fields, their couplings to S
    (dot products: scalars; cross products: T-even vectors) gated and read out as one scalar."""

    def __init__(self):
        super().__init__()
        self.exchange = LatticeConv(LATTICE, SPIN, "2xA1:1:odd", 1.0)
        self.couple = TensorProduct(SPIN, "2xA1:1:odd", "4xA1:0:even + 2xA1:1:even",
                                    [(0, 0, 0), (0, 0, 1)])
        self.gate = Gate("2xA1:0:even", torch.tanh, "2xA1:0:even", torch.sigmoid, "2xA1:1:even", group=P)
        self.norm = Norm("2xA1:1:even", squared=True, group=P)
        self.readout = Linear("4xA1:0:even", "A1:0:even", bias=True, group=P)
        self.irreps_in, self.irreps_out, self.lattice = SPIN, Irreps("A1:0:even", P), LATTICE

    def site_energy(self, S: torch.Tensor) -> torch.Tensor:
        """``(batch, 3, L, L)`` spins → ``(batch, 1, L, L)`` energy per site."""
        y = self.gate(self.couple(S, self.exchange(S)))
        scalars, vectors = y[:, :2], y[:, 2:]
        return self.readout(torch.cat([scalars, self.norm(vectors)], dim=1))

    def forward(self, S: torch.Tensor) -> torch.Tensor:
        """Total energy ``(batch, 1)``."""
        return self.site_energy(S).sum(dim=(2, 3))


def field(model: SpinEnergy, S: torch.Tensor) -> torch.Tensor:
    """−∂E/∂S, ``(batch, 3, L, L)``, by autograd."""
    with torch.enable_grad():
        S = S.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(model(S).sum(), S)
    return -grad


@pytest.fixture
def model(dtype):
    torch.manual_seed(1)
    return SpinEnergy().to(dtype)


def test_energy_is_invariant(model, dtype):
    assert_equivariant(model, dtype=dtype, samples=4)  # every 6mm × T element, rotations, translations


def test_site_energy_is_an_invariant_scalar_field(model, dtype):
    assert_equivariant(model.site_energy, SPIN, Irreps("A1:0:even", P), lattice=LATTICE, dtype=dtype,
                       samples=4)


def test_field_is_an_equivariant_spin_field(model, dtype):
    assert_equivariant(lambda S: field(model, S), SPIN, SPIN, lattice=LATTICE, dtype=dtype, samples=4)


def test_a_field_with_the_wrong_time_parity_is_caught(model):
    model = model.double()
    with pytest.raises(EquivarianceError, match=r"worst operation .*T"):
        assert_equivariant(lambda S: field(model, S), SPIN, Irreps("A1:1:even", P), lattice=LATTICE)


def test_energy_depends_on_the_spins(model, dtype):
    S = SPIN.randn(2, -1, 4, 4, dtype=dtype)
    E, h = model(S), field(model, S)
    assert E.shape == (2, 1) and h.shape == S.shape
    assert h.abs().max() > 1e-3 and (E[0] - E[1]).abs() > 1e-6
