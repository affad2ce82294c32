"""latsym's default force fields on Bravais lattices: exact translations × P × Z2 equivariance, oddness,
shapes, configs, files."""

import pytest
import scipy.optimize
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from latsym_holstein.lattice_net import (
    DIAGONAL,
    LATTICES,
    ChemicalPotential,
    EnergyForceField,
    LatticeForceField,
    OddEmbedding,
    ProductForceField,
    half_filling_level,
    holstein_group,
    holstein_lattice,
    invariant,
    reference_torus,
    smooth_abs,
)
from latsym_holstein.networks import build_network, load_network, save_network

from latsym.group import Z2, point_group
from latsym.lattice import LatticeError, PeriodicLattice, simple_cubic, square, triangular
from latsym.nn import Irreps, Neighbourhood
from latsym.testing import assert_equivariant

GATED = {"square": "1xE:odd + 1xE:even + 1xB1:odd", "triangular": "1xE1:odd + 1xE1:even + 1xE2:odd",
         "sc": "1xT1u:odd + 1xT1u:even + 1xEg:odd + 1xT2g:odd"}
ALL = [LatticeForceField, EnergyForceField, ProductForceField]
PRESETS = [(cls.name, cls) for cls in ALL]
#: the smallest periodic size every small network fits (the skip convolution of radius 2 spans 5 cells)
SIZE = {"square": 6, "triangular": 6, "sc": 5}
SHAPES = {"square": [(5, 5), (5, 9), (16, 12)], "sc": [(5, 5, 5), (5, 7, 6)]}


def config(cls, lattice="square"):
    if cls is ProductForceField:
        return {"radius": DIAGONAL, "width": 2, "layers": 2, "lattice": lattice}
    return {"odd": 3, "even": 2, "gated": GATED[lattice], "layers": 2, "gains": 3, "lattice": lattice,
            "mu_layers": 2}


def randomise(net):
    """Random weights everywhere (a fresh network's read-out starts at zero)."""
    with torch.no_grad():
        for p in net.parameters():
            p.normal_()
    return net


def small(cls, lattice="square", dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    net = randomise(cls(**config(cls, lattice))).to(dtype)
    shape = (4, *[SIZE[lattice]] * holstein_lattice(lattice).dim)
    net.fit_input_scale(3.0 * torch.randn(shape, dtype=dtype))  # a non-trivial scale
    return net.eval()


def field(lattice, *batch, size=None, dtype=torch.float64):
    return torch.randn(*batch, *[size or SIZE[lattice]] * holstein_lattice(lattice).dim, dtype=dtype)


@pytest.mark.parametrize("lattice", ["square", "sc"])
@pytest.mark.parametrize("cls", ALL)
def test_fresh_network_starts_at_zero_force(cls, lattice):
    net = cls(**config(cls, lattice))
    assert torch.all(net(field(lattice, 2, dtype=torch.float32)) == 0)


@pytest.mark.parametrize(("lattice", "order"), [("square", 16), ("triangular", 24), ("sc", 96)])
@pytest.mark.parametrize("cls", ALL)
def test_equivariant_under_translations_point_group_and_z2(cls, lattice, order, dtype):
    net = small(cls, lattice, dtype)
    periodic = PeriodicLattice(holstein_lattice(lattice), SIZE[lattice])
    report = assert_equivariant(net, lattice=periodic, channel_dim=None, dtype=dtype)
    assert net.irreps_in.group == holstein_group(lattice) and holstein_group(lattice).order == order
    assert len(report.errors) == order + periodic.dim + 1  # every element of P x Z2, the translations


@pytest.mark.parametrize("lattice", ["square", "sc"])
@pytest.mark.parametrize("cls", ALL)
def test_forces_are_odd(cls, lattice):
    net = small(cls, lattice)
    q = 4.0 * field(lattice, 3, size=SIZE[lattice] + 1)
    forces = net(q)
    assert forces.abs().max() > 1e-3  # not trivially zero
    torch.testing.assert_close(net(-q), -forces, rtol=0, atol=1e-12)


def test_equivariance_check_catches_a_broken_network():
    net = small(LatticeForceField)

    def shifted(q):
        return net(q) + 0.1  # an offset is not odd
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(shifted, net.irreps_in, net.irreps_out, lattice=PeriodicLattice(square(), 6),
                           channel_dim=None)


@pytest.mark.parametrize("lattice", ["square", "sc"])
@pytest.mark.parametrize("cls", ALL)
def test_shapes_on_any_lattice(cls, lattice):
    net = small(cls, lattice, torch.float32)
    for shape in SHAPES[lattice]:
        assert net(torch.randn(*shape)).shape == shape
        assert net(torch.randn(2, *shape)).shape == (2, *shape)


@pytest.mark.parametrize(("lattice", "shift"), [("square", (2, -3)), ("sc", (1, -2, 3))])
@pytest.mark.parametrize("cls", ALL)
def test_periodic_translation_by_any_vector(cls, lattice, shift):
    net = small(cls, lattice)
    q = torch.randn(1, *[7, 9, 6][: len(shift)], dtype=torch.float64)
    dims = tuple(range(1, len(shift) + 1))
    shifted = net(q.roll(shift, dims=dims))
    torch.testing.assert_close(shifted, net(q).roll(shift, dims=dims), rtol=0, atol=1e-12)


def test_eval_mode_follows_the_weights():
    # the layers cache their expanded kernels in eval mode: the cache must follow in-place weight
    # changes (an optimiser step) and load_state_dict
    net = small(LatticeForceField)
    q = field("square", 2)
    train_out = net.train()(q)
    torch.testing.assert_close(net.eval()(q), train_out)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(-0.5)
    torch.testing.assert_close(net(q), net.train()(q))
    other = small(LatticeForceField, seed=1)
    net.eval().load_state_dict(other.state_dict())
    torch.testing.assert_close(net(q), other(q))


def test_bad_input():
    net = small(LatticeForceField)
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(2, 2, 6, 6, dtype=torch.float64))
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(6, dtype=torch.float64))
    with pytest.raises(TypeError, match="dtype"):
        net(torch.zeros(6, 6, dtype=torch.float32))
    with pytest.raises(ValueError, match=r"smaller than the stencil.*spans \(5, 5\) cells"):
        net(torch.zeros(4, 6, dtype=torch.float64))
    for bad in (float("nan"), float("inf")):  # refused as ED refuses them, not answered with NaN
        q = torch.zeros(2, 6, 6, dtype=torch.float64)
        q[1, 4, 2] = bad
        with pytest.raises(ValueError, match=r"1 non-finite entries \(NaN or inf\) .* index \(1, 4, 2\)"):
            net(q)
    cubic = small(LatticeForceField, "sc")
    with pytest.raises(ValueError, match=r"\(L1, L2, L3\) or \(batch, L1, L2, L3\) on the sc lattice"):
        cubic(torch.zeros(6, 6, dtype=torch.float64))
    with pytest.raises(LatticeError, match=r"\(5, 5, 4\) cells is smaller than the stencil"):
        cubic(torch.zeros(2, 5, 5, 4, dtype=torch.float64))


@pytest.mark.parametrize(("config", "match"), [
    ({"odd": 0}, "odd must be an integer >= 1"),
    ({"even": 1.5}, "even must be an integer"),
    ({"layers": True}, "layers must be an integer"),
    ({"radius": 0.5}, "radius must be a number >= 1"),
    ({"skip_radius": -1.0}, "skip_radius must be a number >= 0"),
    ({"gains": -1}, "gains must be an integer >= 0"),
    ({"max_gain": 0.5}, "max_gain must be a number >= 1"),
    ({"gated": "1xA1:even"}, "gated irreps must not hold A1 scalars"),
    ({"gated": "1xA1g:odd", "lattice": "sc"}, "gated irreps must not hold A1g scalars"),
    ({"gated": "1xQ"}, "no irrep labelled 'Q'"),
    ({"gated": "1xB1:odd", "lattice": "sc"},
     r"gated irreps '1xB1:odd' do not fit the sc lattice \(Oh×Z2 has no irrep labelled 'B1:odd'.*T1u:odd"),
    ({"lattice": "hexagonal"}, "unknown lattice 'hexagonal'; choose one of: square, triangular, sc"),
    ({"lattice": None}, "unknown lattice None"),
])
@pytest.mark.parametrize("cls", [LatticeForceField, EnergyForceField])
def test_bad_config(cls, config, match):
    with pytest.raises(ValueError, match=match):
        cls(**config)
    with pytest.raises(TypeError, match="context must be True or False, got 1"):
        cls(context=1)
    with pytest.raises(TypeError, match="chemical_potential must be True or False, got 'yes'"):
        cls(chemical_potential="yes")
    with pytest.raises(ValueError, match="mu_layers must be an integer >= 1, got 0"):
        cls(mu_layers=0)


@pytest.mark.parametrize(("lattice", "order"), [("square", 16), ("sc", 96)])
@pytest.mark.parametrize("cls", [LatticeForceField, EnergyForceField])
def test_context_network_is_equivariant_and_global(cls, lattice, order, dtype):
    torch.manual_seed(0)
    net = randomise(cls(**config(cls, lattice), context=True, chemical_potential=False)).to(dtype).eval()
    net.fit_input_scale(3.0 * field(lattice, 2, dtype=dtype))
    periodic = PeriodicLattice(holstein_lattice(lattice), SIZE[lattice] + 2)
    report = assert_equivariant(net, lattice=periodic, channel_dim=None, dtype=dtype)
    assert len(report.errors) == order + periodic.dim + 1
    # a site beyond every stencil still changes the force at the origin, through the averages only
    q = 3.0 * field(lattice, size=SIZE[lattice] + 6, dtype=dtype)
    far = q.clone()
    far[(SIZE[lattice] + 6) // 2, ...] += 1.0
    origin = (0,) * holstein_lattice(lattice).dim
    assert abs(net(far)[origin] - net(q)[origin]) > 1e-9
    local = randomise(cls(**config(cls, lattice), context=False, chemical_potential=False)).to(dtype).eval()
    local.input_scale.copy_(net.input_scale)
    assert abs(local(far)[origin] - local(q)[origin]) == 0


@pytest.mark.parametrize(("config", "match"), [
    ({"width": 0}, "width must be an integer >= 1"),
    ({"layers": 1.0}, "layers must be an integer"),
    ({"radius": 0.5}, "radius must be a number >= 1"),
    ({"skip_radius": "2"}, "skip_radius must be a number"),
    ({"lattice": "cubic"}, "unknown lattice 'cubic'; choose one of: square, triangular, sc"),
])
def test_bad_product_config(config, match):
    with pytest.raises(ValueError, match=match):
        ProductForceField(**config)


@pytest.mark.parametrize("lattice", ["square", "sc"])
@pytest.mark.parametrize(("name", "cls"), PRESETS)
def test_registry_config_round_trip_and_files(name, cls, lattice, tmp_path):
    net = randomise(build_network(name, **config(cls, lattice)))
    assert isinstance(net, cls) and net.name == name and net.config["lattice"] == lattice
    net.fit_input_scale(5.0 * field(lattice, 3, dtype=torch.float32))
    rebuilt = build_network(net.name, **net.config)
    assert rebuilt.config == net.config and rebuilt.n_parameters() == net.n_parameters()
    path = save_network(net, tmp_path / "net.pt")
    loaded = load_network(path)
    q = field(lattice, 2, dtype=torch.float32)
    assert loaded.config == net.config and loaded.lattice_name == lattice
    torch.testing.assert_close(loaded(q), net.eval()(q))


def test_default_config_is_the_documented_one():
    common = {"odd": 8, "even": 4, "layers": 3, "radius": DIAGONAL, "skip_radius": 2.0, "gains": 8,
              "max_gain": 1000.0, "context": True, "chemical_potential": True, "mu_layers": 5}
    assert build_network("latsym").config == {**common, "gated": "1xE:odd + 1xE:even", "lattice": "square"}
    assert build_network("latsym-energy", lattice="sc").config == {
        **common, "gated": "1xT1u:odd + 1xT1u:even", "lattice": "sc"}
    assert build_network("latsym", lattice="triangular").config["gated"] == "1xE1:odd + 1xE1:even"
    assert build_network("latsym-tp").config == {"radius": 13**0.5, "width": 8, "layers": 3,
                                                 "skip_radius": 2.0, "lattice": "square"}
    tp = build_network("latsym-tp", lattice="sc", width=1, layers=1)
    assert tp.config["radius"] == 5**0.5 and tp.neighbourhood.n_points == 57


def test_default_radius_stencils():
    # √2: square and simple-cubic nearest + next-nearest neighbours, in the 3x3 (3x3x3) cell box
    assert [len(s) for s in square().stencil(DIAGONAL).shells] == [1, 4, 4]
    assert [len(s) for s in simple_cubic().stencil(DIAGONAL).shells] == [1, 6, 12]
    assert reference_torus("sc", DIAGONAL).lattice_shape == (3, 3, 3)
    assert reference_torus("triangular", DIAGONAL).lattice_shape == (3, 3)
    assert reference_torus("square", 13**0.5).lattice_shape == (7, 7)


def test_groups_and_invariants_per_lattice():
    assert holstein_group() == point_group("4mm", dim=2) * Z2()
    assert holstein_group("triangular") == triangular().group * Z2()
    assert holstein_group("sc") == point_group("m-3m", dim=3) * Z2()
    assert holstein_group("sc") is holstein_group("sc")  # cached
    assert [invariant(name) for name in LATTICES] == ["A1", "A1", "A1g"]
    with pytest.raises(ValueError, match="choose one of: square, triangular, sc"):
        holstein_group("honeycomb")
    for name, preset in LATTICES.items():  # the documented defaults are valid for their lattice
        assert Irreps(preset.gated, holstein_group(name)).dim > 0


def test_odd_embedding_gains_are_log_spaced_and_learnt():
    emb = OddEmbedding(4, 1000.0).double()
    x = torch.linspace(-0.5, 1.5, 50, dtype=torch.float64).reshape(2, 1, 5, 5)  # not symmetric: Σ∂y/∂γ ≠ 0
    y = emb(x)
    gains = torch.tensor([1.0, 10.0, 100.0, 1000.0], dtype=torch.float64)
    torch.testing.assert_close(y[:, 0], x[:, 0])
    torch.testing.assert_close(y[:, 1:], torch.tanh(gains[:, None, None] * x))
    torch.testing.assert_close(emb(-x), -y)
    y.sum().backward()
    assert emb.gains.weight.grad.abs().min() > 0
    cubic = OddEmbedding(2, 10.0, lattice="sc")
    assert str(cubic.irreps_out) == "3xA1g:odd" and cubic(torch.randn(1, 1, 3, 3, 3)).shape == (1, 3, 3, 3, 3)


@pytest.mark.parametrize(("lattice", "skip_radius", "size"), [("square", 2.0, 5), ("sc", DIAGONAL, 3)])
def test_energy_variant_is_conservative(lattice, skip_radius, size):
    # the force field of an energy has a symmetric Jacobian: dF_i/dq_j = dF_j/dq_i
    torch.manual_seed(0)
    net = randomise(EnergyForceField(**{**config(EnergyForceField, lattice), "skip_radius": skip_radius}))
    net = net.double().eval()
    q = field(lattice, 1, size=size)
    n = q.numel()
    jac = torch.autograd.functional.jacobian(net, q).reshape(n, n)
    assert (jac - jac.T).abs().max() < 1e-10 < jac.abs().max()
    # and it is minus the gradient of the energy: compare with central finite differences
    i, eps = 7, 1e-5
    dq = torch.zeros_like(q)
    dq.view(-1)[i] = eps
    numeric = -(net.energy(q + dq) - net.energy(q - dq)) / (2 * eps)
    torch.testing.assert_close(net(q).view(-1)[i], numeric[0], rtol=1e-6, atol=1e-8)


def test_direct_network_is_not_conservative():
    # the default model predicts forces directly: its Jacobian is generically not symmetric
    net = small(LatticeForceField)
    q = torch.randn(1, 5, 5, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(net, q).reshape(25, 25)
    assert (jac - jac.T).abs().max() > 1e-6


def test_energy_is_even_and_trains_through_autograd():
    net = small(EnergyForceField)
    q = torch.randn(2, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(net.energy(-q), net.energy(q), rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match=r"q must have shape \(batch, L1, L2\) on the square lattice"):
        net.energy(q[0])
    net.train()
    loss = net(q).pow(2).mean()
    loss.backward()  # second derivatives reach the weights
    assert all(p.grad is not None for p in net.backbone.parameters())
    net.eval()
    with torch.no_grad():
        assert not net(q).requires_grad


def test_smooth_abs_is_even_and_smooth():
    x = torch.linspace(-3, 3, 61, dtype=torch.float64, requires_grad=True)
    y = smooth_abs(x)
    torch.testing.assert_close(y, smooth_abs(-x))
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert abs(grad[30]) < 1e-12 and torch.all(grad[31:] > 0)


def test_reference_torus_neighbourhood_matches_one_built_for_the_field(dtype):
    G = point_group("4mm", dim=2)
    nb = Neighbourhood(reference_torus("square", 13**0.5), G, 13**0.5, Irreps("A1", G)).to(dtype)
    reference = Neighbourhood(PeriodicLattice(square(), (8, 10)), G, 13**0.5)
    x = torch.randn(2, 1, 8, 10, dtype=dtype)
    torch.testing.assert_close(nb(x), reference(x))
    with pytest.raises(ValueError, match=r"smaller than the stencil .* spans \(7, 7\) cells"):
        nb(torch.randn(1, 1, 6, 10, dtype=dtype))


def _filling(levels, mu, width):
    return torch.sigmoid((mu[:, None] - levels) / width).sum(dim=1)


@settings(max_examples=20)
@given(n=st.integers(2, 40), log_width=st.floats(-3.0, 1.0), seed=st.integers(0, 2**16))
def test_half_filling_level_half_fills_is_odd_and_permutation_invariant(n, log_width, seed):
    generator = torch.Generator().manual_seed(seed)
    levels = 2.0 * torch.randn(3, n, generator=generator, dtype=torch.float64)
    width = torch.tensor(10.0**log_width, dtype=torch.float64)
    mu = half_filling_level(levels, width)
    torch.testing.assert_close(_filling(levels, mu, width), torch.full((3,), n / 2, dtype=torch.float64),
                               rtol=0, atol=1e-9)
    torch.testing.assert_close(half_filling_level(-levels, width), -mu, rtol=0, atol=1e-9)
    shuffled = levels[:, torch.randperm(n, generator=generator)]
    torch.testing.assert_close(half_filling_level(shuffled, width), mu, rtol=0, atol=1e-9)


@settings(max_examples=20)
@given(n=st.integers(2, 12), seed=st.integers(0, 2**16))
def test_half_filling_level_with_repeated_levels_half_fills(n, seed):
    """Small integer levels repeat, the middle ones too: the bracket and the steps still find the root."""
    generator = torch.Generator().manual_seed(seed)
    levels = torch.randint(-2, 3, (4, n), generator=generator).to(torch.float64)
    width = torch.tensor(0.2, dtype=torch.float64)
    mu = half_filling_level(levels, width)
    torch.testing.assert_close(_filling(levels, mu, width), torch.full((4,), n / 2, dtype=torch.float64),
                               rtol=0, atol=1e-9)


def test_half_filling_level_matches_a_bracketing_root_finder():
    """Against scipy's brentq on the same equation, in float64 and float32, levels from a CDW-like
    two-peaked distribution (the solver's start sits in the gap between the peaks)."""
    generator = torch.Generator().manual_seed(3)
    signs = torch.where(torch.rand(3, 400, generator=generator) < 0.45, -1.0, 1.0)
    levels = (signs * (1.0 + 0.3 * torch.randn(3, 400, generator=generator))).to(torch.float64)
    width = 0.1
    mu64 = half_filling_level(levels, torch.tensor(width, dtype=torch.float64))
    for row, mu in zip(levels, mu64, strict=True):
        def excess(m, row=row):
            return float(torch.sigmoid((m - row) / width).sum()) - len(row) / 2
        assert abs(float(mu) - scipy.optimize.brentq(excess, -10.0, 10.0, xtol=1e-14)) < 1e-10
    single = half_filling_level(levels.float(), torch.tensor(width))
    torch.testing.assert_close(single.double(), mu64, rtol=0, atol=1e-5)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_half_filling_level_rejects_bad_max_iterations(bad):
    with pytest.raises(ValueError, match="max_iterations must be an integer >= 1"):
        half_filling_level(torch.zeros(1, 4), torch.tensor(0.1), max_iterations=bad)


def test_half_filling_level_gradient_is_the_implicit_one():
    levels = torch.randn(2, 7, dtype=torch.float64, requires_grad=True)
    width = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda e, w: half_filling_level(e, w), (levels, width))


def test_half_filling_level_in_a_wide_gap_is_midgap_with_finite_gradients():
    levels = torch.tensor([[-3.0, -2.0, 4.0, 5.0]], dtype=torch.float64, requires_grad=True)
    width = torch.tensor(0.05, dtype=torch.float64, requires_grad=True)
    mu = half_filling_level(levels, width)
    assert abs(float(mu.detach()) - 1.0) < 1e-6  # the tails of -2 and 4 balance midway
    mu.sum().backward()
    assert torch.isfinite(levels.grad).all() and torch.isfinite(width.grad).all()
    torch.testing.assert_close(levels.grad.sum(), torch.tensor(1.0, dtype=torch.float64))  # a shift moves μ


@pytest.mark.parametrize("shape", [(5,), (2, 1), (2, 3, 4)])
def test_half_filling_level_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match=r"levels must have shape \(batch, N\) with N >= 2"):
        half_filling_level(torch.zeros(shape), torch.tensor(0.1))


@pytest.mark.parametrize("lattice", ["square", "sc"])
def test_chemical_potential_is_odd_invariant_and_global(lattice, dtype):
    """μ is an odd invariant of the whole configuration: it flips with Q, ignores the point group and
    translations, and moves with a site beyond every stencil."""
    torch.manual_seed(0)
    cp = randomise(ChemicalPotential(odd=3, even=2, gated=GATED[lattice], radius=DIAGONAL, gains=3,
                                     max_gain=100.0, lattice=lattice)).to(dtype)
    with torch.no_grad():
        cp.log_width.fill_(0.0)
    x = field(lattice, 2, size=SIZE[lattice] + 4, dtype=dtype)[:, None]
    mu = cp(x)
    torch.testing.assert_close(cp(-x), -mu)
    torch.testing.assert_close(cp(torch.roll(x, (1, 2), (2, 3))), mu)
    torch.testing.assert_close(cp(torch.flip(x, (2,))), mu)  # a mirror of every lattice here
    far = x.clone()
    far[:, :, -1] += 1.0
    assert (cp(far) - mu).abs().min() > 1e-6


def test_mu_layers_deepen_the_level_network():
    shallow, deep = (LatticeForceField(**{**config(LatticeForceField), "mu_layers": n}) for n in (1, 3))
    assert len(shallow.backbone.chemical_potential.network.blocks) == 1
    assert len(deep.backbone.chemical_potential.network.blocks) == 3
    assert deep.config["mu_layers"] == 3 and deep.n_parameters() > shallow.n_parameters()


def test_chemical_potential_makes_the_network_see_every_site():
    torch.manual_seed(0)
    net = randomise(LatticeForceField(**config(LatticeForceField), context=False)).double().eval()
    q = 3.0 * field("square", size=14)
    far = q.clone()
    far[7, :] += 1.0
    assert abs(net(far)[0, 0] - net(q)[0, 0]) > 1e-9


@pytest.mark.parametrize("cls", [LatticeForceField, EnergyForceField])
def test_threshold_is_the_learnt_chemical_potential_in_units_of_q(cls, dtype):
    net = small(cls, dtype=dtype)
    q = field("square", 3, size=8, dtype=dtype)
    threshold = net.threshold(q)
    x = (q / net.input_scale)[:, None]
    torch.testing.assert_close(threshold, net.input_scale * net.backbone.chemical_potential(x))
    torch.testing.assert_close(net.threshold(-q), -threshold)
    with pytest.raises(ValueError, match=r"q must have shape \(batch, L1, L2\)"):
        net.threshold(q[0])
    local = cls(**config(cls), chemical_potential=False)
    with pytest.raises(ValueError, match="no learnt chemical potential"):
        local.threshold(q.float())


@pytest.mark.parametrize("cls", [LatticeForceField, EnergyForceField])
def test_files_from_before_the_chemical_potential_load_as_trained(cls, tmp_path):
    """A config without ``chemical_potential``/``mu_layers`` (files written before those options) is
    read with the values it was trained with, not today's defaults."""
    old = randomise(cls(**{**config(cls), "chemical_potential": False}))
    path = save_network(old, tmp_path / "old.pt")
    payload = torch.load(path, weights_only=True)
    for key in ("chemical_potential", "mu_layers"):
        del payload["config"][key]
    torch.save(payload, path)
    loaded = load_network(path)
    assert loaded.backbone.chemical_potential is None
    q = field("square", 2, dtype=torch.float32)
    torch.testing.assert_close(loaded(q), old.eval()(q))
    one_layer = randomise(cls(**{**config(cls), "mu_layers": 1}))
    path = save_network(one_layer, tmp_path / "one_layer.pt")
    payload = torch.load(path, weights_only=True)
    del payload["config"]["mu_layers"]
    torch.save(payload, path)
    assert len(load_network(path).backbone.chemical_potential.network.blocks) == 1
