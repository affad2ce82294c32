"""The "paper" preset (Fan & Chern 2026): widths, parameter count, D4 equivariance, no Z2 oddness."""

from math import comb

import pytest
import torch
from latsym_holstein.networks import build_network, load_network, save_network
from latsym_holstein.paper_net import PaperForceField, augmented_widths, site_group

from latsym.group import Z2
from latsym.lattice import PeriodicLattice, square
from latsym.nn import Irreps
from latsym.testing import assert_equivariant

NEIGHBOURHOOD = {"A1": 9, "A2": 3, "B1": 6, "B2": 5, "E": 11}


def randomise(net):
    """Random weights everywhere (a fresh network's output layer starts at zero)."""
    with torch.no_grad():
        for p in net.parameters():
            p.normal_()
    return net


def distinct_pair_widths(m: dict[str, int]) -> dict[str, int]:
    """Linear features plus distinct-pair products landing in each irrep of D4, by counting:
    a product of two 1-dim irreps is the 1-dim irrep of the product character, X ⊗ E = E, and
    E_p ⊗ E_q (p != q) = A1 + A2 + B1 + B2."""
    one = ["A1", "A2", "B1", "B2"]
    table = {("A1", x): x for x in one} | {("A2", "A2"): "A1", ("A2", "B1"): "B2", ("A2", "B2"): "B1",
                                            ("B1", "B1"): "A1", ("B1", "B2"): "A2", ("B2", "B2"): "A1"}
    widths = dict(m)
    for i, a in enumerate(one):
        for b in one[i:]:
            pairs = comb(m[a], 2) if a == b else m[a] * m[b]
            widths[table[(a, b)]] += pairs
    for a in one:
        widths["E"] += m[a] * m["E"]
        widths[a] += comb(m["E"], 2)
    return widths


def test_first_layer_concatenated_widths():
    expected = {"A1": 128, "A2": 115, "B1": 130, "B2": 123, "E": 264}
    assert distinct_pair_widths(NEIGHBOURHOOD) == expected  # the paper's numbers, by counting
    net = PaperForceField()
    assert str(net.neighbourhood.irreps_out) == "9xA1 + 3xA2 + 6xB1 + 5xB2 + 11xE"
    assert augmented_widths(net.neighbourhood.irreps_out) == expected
    assert augmented_widths(Irreps("4xA1 + 4xA2 + 4xB1 + 4xB2 + 4xE", site_group())) == \
        distinct_pair_widths(dict.fromkeys(NEIGHBOURHOOD, 4))


def test_parameter_count():
    # bias-free linear maps on the concatenations (E's components share weights), widths 32, 8, 4, 1,
    # plus one activation bias per hidden irrep copy
    count, m = 0, NEIGHBOURHOOD
    for width in (32, 8, 4):
        count += sum(distinct_pair_widths(m).values()) * width + 5 * width
        m = dict.fromkeys(NEIGHBOURHOOD, width)
    count += distinct_pair_widths(m)["A1"] * 1
    net = build_network("paper")
    assert net.n_parameters() == count == 143134


def test_d4_and_translation_equivariant(dtype):
    torch.manual_seed(0)
    net = randomise(PaperForceField(widths=[4, 2])).to(dtype)
    net.fit_input_scale(torch.randn(2, 8, 8, dtype=dtype))
    lattice = PeriodicLattice(square(), 8)
    report = assert_equivariant(net.eval(), lattice=lattice, channel_dim=None, dtype=dtype)
    assert len(report.errors) == 8 + 3  # every D4 element, the translation generators


def test_default_preset_equivariant_in_float32():
    torch.manual_seed(0)
    net = randomise(build_network("paper"))
    assert_equivariant(net, lattice=PeriodicLattice(square(), 8), channel_dim=None, dtype=torch.float32)


def test_not_odd_under_particle_hole():
    torch.manual_seed(0)
    net = randomise(PaperForceField(widths=[4, 2])).double()
    q = torch.randn(2, 8, 8, dtype=torch.float64)
    assert (net(-q) + net(q)).abs().max() > 1e-3
    odd = Irreps("A1:odd", site_group() * Z2())
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(net, odd, odd, lattice=PeriodicLattice(square(), 8), channel_dim=None)


def test_irrep_scales_fitted_per_type():
    net = PaperForceField(widths=[2])
    q = torch.randn(5, 8, 8)
    net.fit_input_scale(q)
    assert net.input_scale == q.abs().max()
    features = net.features(q).abs().amax(dim=(0, 2, 3))
    for sl in net.neighbourhood.irreps_out.slices():
        assert torch.all(net.irrep_scale[sl] == features[sl].max())
    assert len(set(net.irrep_scale.tolist())) == 5
    with pytest.raises(ValueError, match=r"\(n, L1, L2\)"):
        net.fit_input_scale(q[0])


def test_shapes_config_round_trip_and_files(tmp_path):
    net = randomise(build_network("paper", widths=[3, 2]))
    assert net.config == {"widths": [3, 2]}
    for shape in [(7, 7), (8, 11)]:
        assert net(torch.randn(*shape)).shape == shape
        assert net(torch.randn(2, *shape)).shape == (2, *shape)
    net.fit_input_scale(torch.randn(3, 8, 8))
    loaded = load_network(save_network(net, tmp_path / "paper.pt"))
    q = torch.randn(1, 8, 8)
    torch.testing.assert_close(loaded(q), net.eval()(q))
    torch.testing.assert_close(loaded.irrep_scale, net.irrep_scale)


def test_fresh_network_starts_at_zero_force():
    assert torch.all(PaperForceField(widths=[2])(torch.randn(2, 8, 8)) == 0)


def test_bad_input():
    net = PaperForceField(widths=[2])
    with pytest.raises(ValueError, match=r"spans \(7, 7\) cells"):
        net(torch.zeros(6, 8))
    with pytest.raises(ValueError, match="shape"):
        net(torch.zeros(1, 1, 8, 8))
    for widths in ([], [0], [2.5], [True]):
        with pytest.raises(ValueError, match="widths must be"):
            PaperForceField(widths=widths)
