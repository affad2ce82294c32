"""TensorProduct, FullyConnectedTensorProduct and TensorSquare against the core's CG and Hom bases."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latsym.group import Z2, clebsch_gordan, hom_basis, point_group, real_irreps
from latsym.lattice import PeriodicLattice, square
from latsym.nn import FullyConnectedTensorProduct, Irreps, TensorProduct, TensorSquare, coupling_basis
from latsym.testing import assert_equivariant, groups, irreps, quaternion_group

D4 = point_group("4mm", dim=2)
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=6)


@fixture_ok
@given(st.data())
def test_fully_connected_equivariant_on_many_groups(dtype, data):
    G = data.draw(groups())
    a, b, c = (data.draw(irreps(G, max_mul=2, max_terms=3)) for _ in range(3))
    torch.manual_seed(0)
    assert_equivariant(FullyConnectedTensorProduct(a, b, c).to(dtype), dtype=dtype)


@fixture_ok
@given(st.data())
def test_tensor_square_equivariant_on_many_groups(dtype, data):
    G = data.draw(groups())
    a, c = data.draw(irreps(G, max_mul=2, max_terms=3)), data.draw(irreps(G, max_mul=2, max_terms=3))
    torch.manual_seed(0)
    assert_equivariant(TensorSquare(a, c).to(dtype), dtype=dtype)
    assert_equivariant(TensorSquare(a, distinct_pairs=False).to(dtype), dtype=dtype)


def _labels(G):
    return {r.label: r for r in real_irreps(G)}


@pytest.mark.parametrize(
    ("G", "triple"),
    [
        (point_group("23"), ("T", "T", "T")),  # outer multiplicity 2
        (point_group("23"), ("E", "T", "T")),
        (point_group("4", dim=2), ("E", "E", "A")),
        (point_group("4", dim=2), ("E", "A", "E")),  # complex type: 2 maps
        (quaternion_group(), ("G5", "G5", "G1")),
        (quaternion_group(), ("G5", "G1", "G5")),  # quaternionic: 4 maps
        (point_group("m-3m"), ("T1u", "T2g", "T1u")),
    ],
)
def test_coupling_basis_spans_the_equivariant_bilinear_maps(G, triple):
    a, b, c = (_labels(G)[label] for label in triple)
    B = coupling_basis(a, b, c)
    rep_ab = Irreps(a).representation().tensor(Irreps(b).representation())
    n_hom = hom_basis(rep_ab, Irreps(c).representation()).shape[0]
    assert B.shape == (n_hom, a.dim, b.dim, c.dim)
    flat = B.reshape(len(B), -1)
    np.testing.assert_allclose(flat @ flat.T, c.dim * np.eye(len(B)), atol=1e-10)  # orthogonal isometries
    lhs = np.einsum("gai,gbj,pijc->gpabc", a.matrices, b.matrices, B)
    rhs = np.einsum("pabd,gdc->gpabc", B, c.matrices)
    np.testing.assert_allclose(lhs, rhs, atol=1e-10)
    tp = TensorProduct(Irreps(a), Irreps(b), Irreps(c), [(0, 0, 0)])
    assert tp.weight_numel == n_hom


@pytest.mark.parametrize(
    ("mode", "muls", "numel"),
    [("uvw", (2, 3, 4), 24), ("uvu", (2, 3, 2), 6), ("uvv", (2, 3, 3), 6), ("uuw", (2, 2, 3), 6),
     ("uuu", (3, 3, 3), 3), ("uvuv", (2, 3, 6), 6)],
)
def test_modes(mode, muls, numel):
    m1, m2, mo = muls
    tp = TensorProduct(f"{m1}xE", f"{m2}xE", f"{mo}xB2", [(0, 0, 0, mode)], group=D4).to(torch.float64)
    assert tp.weight_numel == numel
    assert_equivariant(tp)


def test_unweighted_instruction_is_the_clebsch_gordan_product():
    tp = TensorProduct("E", "E", "A2", [(0, 0, 0, "uvw", False)], group=D4).to(torch.float64)
    assert tp.weight_numel == 0
    x1, x2 = torch.randn(5, 2, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    E, A2 = _labels(D4)["E"], _labels(D4)["A2"]
    C = torch.tensor(clebsch_gordan(E, E, A2)[0])
    expected = torch.einsum("ijc,bi,bj->bc", C, x1, x2)
    np.testing.assert_allclose(tp(x1, x2).detach(), expected, atol=1e-12)


def test_internal_parity_of_products():
    """odd x odd is even: the product of two Z2-odd fields lands in an even irrep."""
    G = D4 * Z2()
    tp = FullyConnectedTensorProduct("2xA1:odd + E:odd", "E:odd", "A1:even + E:even + A1:odd", group=G)
    assert {tp.irreps_out[p.i_out].irrep.label for p in tp.paths} == {"A1:even", "E:even"}
    assert_equivariant(tp.to(torch.float64))


def test_lattice_fields_batched_over_sites():
    tp = FullyConnectedTensorProduct("A1 + E", "E", "2xE + A2", group=D4).to(torch.float64)
    assert_equivariant(tp, lattice=PeriodicLattice(square(), 4))
    x1, x2 = torch.randn(2, 3, 4, 4, dtype=torch.float64), torch.randn(2, 2, 4, 4, dtype=torch.float64)
    site = tp(x1[..., 1, 2], x2[..., 1, 2])
    np.testing.assert_allclose(tp(x1, x2)[..., 1, 2].detach(), site.detach(), atol=1e-12)


def test_normalisation():
    torch.manual_seed(0)
    a = Irreps("20xA1 + 20xE", D4)
    tp = FullyConnectedTensorProduct(a, a, "30xA1 + 30xE + 30xB1", group=D4)
    gen = torch.Generator().manual_seed(1)
    x1, x2 = a.randn(4000, -1, generator=gen), a.randn(4000, -1, generator=gen)
    assert 0.8 < tp(x1, x2).var(dim=0).mean().item() < 1.2


def test_tensor_square_reproduces_the_paper_first_layer_widths():
    """The Holstein paper's first layer: the 45-site D4 neighbourhood 9A1 + 3A2 + 6B1 + 5B2 + 11E,
    augmented by all distinct-pair products, has widths A1 128, A2 115, B1 130, B2 123, E 264."""
    x = Irreps("9xA1 + 3xA2 + 6xB1 + 5xB2 + 11xE", D4)
    products = TensorSquare(x).irreps_out
    widths = {label: x.count(label) + products.count(label) for label in ("A1", "A2", "B1", "B2", "E")}
    assert widths == {"A1": 128, "A2": 115, "B1": 130, "B2": 123, "E": 264}


def test_tensor_square_distinct_pairs_have_no_squares():
    sq = TensorSquare("3xA1", group=D4).to(torch.float64)
    assert str(sq.irreps_out) == "3xA1" and sq.weight_numel == 0
    x = torch.randn(4, 3, dtype=torch.float64)
    expected = torch.stack([x[:, 0] * x[:, 1], x[:, 0] * x[:, 2], x[:, 1] * x[:, 2]], dim=1)
    np.testing.assert_allclose(sq(x).detach(), expected, atol=1e-12)
    with_squares = TensorSquare("3xA1", group=D4, distinct_pairs=False)
    assert with_squares.irreps_out.count("A1") == 6
    # one copy alone: no distinct pair, so a weighted square of a single copy is identically zero
    single = TensorSquare("E", "A1 + B1", group=D4)
    assert single.weight_numel == 0
    assert torch.all(single(torch.randn(3, 2)) == 0)
    assert TensorSquare("E", "A1 + B1", group=D4, distinct_pairs=False).weight_numel == 2


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("E", "E", "A1", [(0, 0, 0, "uvx")]), "unknown mode"),
        (("E", "E", "A1", [(1, 0, 0)]), "i_in1=1 is out of range"),
        (("E", "E", "A1", [(0, 0, 2)]), "i_out=2 is out of range"),
        (("E", "E", "E", [(0, 0, 0)]), "does not contain E"),
        (("2xE", "E", "3xA1", [(0, 0, 0, "uvu")]), "does not fit multiplicities"),
        (("A1", "A1", "A1", [(0, 0, 0, "uvw", False)]), None),
    ],
)
def test_bad_instructions(args, match):
    if match is None:
        TensorProduct(*args, group=D4)
        return
    with pytest.raises(ValueError, match=match):
        TensorProduct(*args, group=D4)


def test_unweighted_with_outer_multiplicity_is_refused():
    with pytest.raises(ValueError, match="contains T 2 times"):
        TensorProduct("T", "T", "T", [(0, 0, 0, "uvw", False)], group=point_group("23"))


def test_bad_inputs_at_call():
    tp = FullyConnectedTensorProduct("E", "E", "A1", group=D4)
    with pytest.raises(ValueError, match="expects 2 channels"):
        tp(torch.randn(3, 2), torch.randn(3, 3))
    with pytest.raises(ValueError, match="other axes differ"):
        tp(torch.randn(3, 2), torch.randn(4, 2))
