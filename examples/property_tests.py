"""Property-based symmetry tests of your own model, with latsym's hypothesis strategies.

Copy this module into your test suite and replace ``ForceField`` by your model; run it with
``.venv/bin/python -m pytest examples/property_tests.py``. The guide
``docs/guides/property_tests.md`` explains each test.

The model under test is a small force field on a periodic square lattice: it takes a scalar
configuration ``q`` of shape ``(batch, L, L)`` that is odd under an internal Z2 (``q → -q``, as
the lattice distortions of the Holstein model under particle–hole symmetry) and returns a force of
the same shape and type. Its symmetry group is ``4mm × Z2`` (16 elements) times the translations.

The tests:

* ``assert_equivariant`` on the model, in float32 and float64 (every group element, exhaustively);
* hypothesis properties: ``f(g·q) = g·f(q)`` for drawn configurations and group elements, written
  out by hand from the site permutations, and ``f(-q) = -f(q)``;
* the layers the model is made of, over random groups, field types and stacks;
* two deliberately broken models (an untied convolution kernel, a bias on a vector field) that the
  check must catch.
"""

from __future__ import annotations

import copy
import functools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from latsym.group import Z2, point_group
from latsym.lattice import PeriodicLattice, square
from latsym.nn import Activation, Irreps, LatticeConv, Linear, Sequential
from latsym.testing import (
    assert_equivariant,
    group_elements,
    groups,
    irreps,
    lattice_configurations,
    layer_stacks,
    typed_fields,
)

G = point_group("4mm", dim=2) * Z2()
LATTICE = PeriodicLattice(square(), 6)
DTYPES = [torch.float32, torch.float64]


class ForceField(torch.nn.Module):
    """The model under test: ``(batch, L1, L2)`` → ``(batch, L1, L2)``, equivariant under
    ``4mm × Z2`` and translations.

    Two stencil convolutions (radius √2: 3×3 kernels tied over each orbit of offsets) with an odd
    activation between them, so that the hidden field stays Z2-odd.
    """

    def __init__(self, lattice: PeriodicLattice, hidden: int = 6):
        super().__init__()
        self.lattice = lattice  # assert_equivariant reads it, like irreps_in and irreps_out
        self.irreps_in = self.irreps_out = Irreps("A1:odd", G)
        inner = Irreps(f"{hidden}xA1:odd", G)
        self.net = Sequential(
            LatticeConv(lattice, self.irreps_in, inner, 2**0.5),
            Activation(inner, torch.tanh),  # odd, so allowed on the odd field
            LatticeConv(lattice, inner, self.irreps_out, 2**0.5),
        )

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return self.net(q.unsqueeze(1)).squeeze(1)


class UntiedConv(torch.nn.Module):
    """Broken on purpose: a 3×3 circular convolution with an arbitrary kernel. It commutes with
    translations and (having no bias) with ``q → -q``, but not with rotations and mirrors."""

    def __init__(self, lattice: PeriodicLattice):
        super().__init__()
        self.lattice = lattice
        self.irreps_in = self.irreps_out = Irreps("A1:odd", G)
        self.conv = torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular", bias=False)

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return self.conv(q.unsqueeze(1)).squeeze(1)


class BiasedVector(torch.nn.Module):
    """Broken on purpose: an equivariant ``Linear`` on per-site features ``"A1 + E"`` of 4mm,
    followed by a bias on every channel. A bias on the E (vector) components picks a direction."""

    def __init__(self):
        super().__init__()
        self.linear = Linear("A1 + E", "A1 + E", group=point_group("4mm", dim=2))
        self.irreps_in, self.irreps_out = self.linear.irreps_in, self.linear.irreps_out
        self.bias = torch.nn.Parameter(torch.randn(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + self.bias


# element g sends site i to site PERMS[g, i] (sites in row-major order) and multiplies an
# "A1:odd" value by SIGNS[g] (-1 for the elements that contain the Z2 operation)
PERMS = torch.as_tensor(LATTICE.site_permutations(G))
SIGNS = Irreps("A1:odd", G).representation_matrices(dtype=torch.float64)[:, 0, 0]


def act(g: int, q: torch.Tensor) -> torch.Tensor:
    """The group element ``g`` acting on configurations ``(batch, L1, L2)``: the value at site
    ``r`` moves to site ``g·r``, times the sign of the field type under ``g``."""
    flat = q.reshape(q.shape[0], -1)
    moved = torch.empty_like(flat)
    moved[:, PERMS[g]] = SIGNS[g].to(q.dtype) * flat
    return moved.reshape(q.shape)


def assert_close(a: torch.Tensor, b: torch.Tensor, atol: float = 1e-10) -> None:
    """Float64 tensors agree to ``atol`` (torch.testing.assert_close costs seconds on first use)."""
    error = float((a - b).abs().max())
    assert error <= atol, f"max difference {error:.3g} > {atol:g}"


@functools.cache
def _model() -> ForceField:
    """The model in float64, built once (hypothesis calls a test many times)."""
    torch.manual_seed(0)
    return ForceField(LATTICE).double().eval()  # eval: the convolutions cache their kernels


# -- the model -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_force_field_is_equivariant(dtype):
    # a copy per dtype: model.to(float32) would also round the model's float64 buffers for good;
    # the inputs have no channel axis: (batch, L1, L2) for a one-dimensional field type
    model = copy.deepcopy(_model()).to(dtype)
    assert_equivariant(model, dtype=dtype, channel_dim=None)


@settings(max_examples=10, deadline=None)
@given(q=lattice_configurations(LATTICE, batch=2, scale=3.0), g=group_elements(G))
def test_force_field_commutes_with_each_element(q, g):
    model = _model()
    with torch.no_grad():
        assert_close(model(act(g, q)), act(g, model(q)))


@settings(max_examples=10, deadline=None)
@given(q=lattice_configurations(LATTICE, scale=3.0))
def test_force_field_is_odd(q):
    model = _model()
    with torch.no_grad():
        assert_close(model(-q), -model(q))


# -- the layers it is made of, over random groups, types and stacks ----------------------------------


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_linear_maps_commute_with_every_drawn_element(data):
    group = data.draw(groups(dims=(2,)), label="group")
    irreps_in, irreps_out = data.draw(irreps(group), label="in"), data.draw(irreps(group), label="out")
    torch.manual_seed(data.draw(st.integers(0, 2**16), label="seed"))
    linear = Linear(irreps_in, irreps_out, allow_zero=True).double()  # random irreps may share none
    x = data.draw(typed_fields(irreps_in, batch=3), label="x")  # (3, irreps_in.dim)
    g = data.draw(group_elements(group), label="g")
    with torch.no_grad():
        lhs = linear(x @ irreps_in.D(g, dtype=torch.float64).T)
        rhs = linear(x) @ irreps_out.D(g, dtype=torch.float64).T
    assert_close(lhs, rhs)


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_random_layer_stacks_are_equivariant(data):
    group = data.draw(groups(dims=(2,)), label="group")
    stack = data.draw(layer_stacks(group, depth=(1, 2)), label="stack")
    assert_equivariant(stack)  # per-site features (batch, dim); every element of the group


# -- broken models the checks must catch ------------------------------------------------------------


@functools.cache
def _untied() -> UntiedConv:
    torch.manual_seed(0)
    return UntiedConv(LATTICE).double()


def test_untied_convolution_is_caught():
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(_untied(), channel_dim=None)


def test_bias_on_a_vector_field_is_caught():
    torch.manual_seed(0)
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(BiasedVector().double())


@settings(max_examples=3, deadline=None)
@given(q=lattice_configurations(LATTICE))
def test_the_hand_written_property_catches_the_untied_convolution(q):
    # the property over all elements at once: some element must expose the untied kernel
    broken = _untied()
    with torch.no_grad():
        errors = [float((broken(act(g, q)) - act(g, broken(q))).abs().max()) for g in range(G.order)]
    assert max(errors) > 1e-6
