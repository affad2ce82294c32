"""Fields of G × SO(3) (× time reversal) and G × U(1): Irreps, the testing kit and Linear."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latsym.group import SO3, U1, GroupError, TimeReversal, Zn, point_group
from latsym.nn import Irreps, Linear
from latsym.nn._split import is_trivial, split_irrep, trivial_irrep
from latsym.testing import (
    EquivarianceError,
    assert_equivariant,
    equivariance_errors,
    group_elements,
    irreps,
    lie_groups,
)

C6V = point_group("6mm", dim=2)
D4 = point_group("4mm", dim=2)
MAGNETIC = C6V * SO3() * TimeReversal()
CHARGE = D4 * U1()
fixture_ok = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=8,
                      deadline=None)


# -- Irreps ---------------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_round_trip_and_dim(data):
    P = data.draw(lie_groups())
    ir = data.draw(irreps(P, max_l=3))
    assert Irreps(str(ir), P) == ir
    assert hash(Irreps(str(ir), P)) == hash(ir)
    assert ir.dim == sum(mul * irrep.dim for mul, irrep in ir)
    assert ir.regroup().dim == ir.dim


def test_parse_spin_syntax():
    ir = Irreps("2xA1:1:odd + E1:0:even", MAGNETIC)
    assert str(ir) == "2xA1:1:odd + 1xE1:0:even"
    assert ir.dim == 2 * 3 + 2
    assert ir.count("A1:1:odd") == 2 and "E1:0:even" in ir and "E1:1:even" not in ir
    assert ir.sort().irreps[0].irrep.name == "E1:0:even"  # the first factor varies fastest


@pytest.mark.parametrize(("text", "match"), [
    ("A1:1", "joined by ':'"),  # a factor missing
    ("A1:1:odd:even", "joined by ':'"),  # a factor too many
    ("A1:one:odd", "integers 0, 1, 2"),  # not a degree
    ("A1:-1:odd", "integers 0, 1, 2"),  # a negative degree
    ("Q1:1:odd", "no irrep 'Q1'"),  # not an irrep of 6mm
    ("A1:1:up", "up"),  # not a time-reversal irrep
    ("2XA1:1:odd", "lowercase x"),
    ("-1xA1:1:odd", "non-negative"),
    ("2x", "no irrep label"),
    ("2xA1:1 odd", "cannot parse"),
])
def test_bad_labels_are_refused(text, match):
    with pytest.raises(ValueError, match=match):
        Irreps(text, MAGNETIC)


def test_strings_need_the_group():
    with pytest.raises(TypeError, match="needs its group"):
        Irreps("A1:1:odd")


def test_irreps_of_other_group_refused():
    with pytest.raises(ValueError, match="belong to"):
        Irreps(Irreps("A1:1:odd", MAGNETIC), C6V * SO3())


def test_element_lists_are_for_finite_groups():
    ir = Irreps("A1:1:odd", MAGNETIC)
    for call in (ir.representation_matrices, ir.representation, lambda: ir.D(0)):
        with pytest.raises(TypeError, match="matrix\\(element\\)"):
            call()


def test_matrix_is_a_block_diagonal_homomorphism():
    ir = Irreps("A1:1:odd + E2:2:even + B1:0:odd", MAGNETIC)
    a, b = MAGNETIC.sample_elements(2, seed=3)
    ab = MAGNETIC.compose(a, b)
    Da, Db, Dab = (ir.matrix(x, dtype=torch.float64) for x in (a, b, ab))
    assert torch.allclose(Dab, Da @ Db, atol=1e-12)
    assert torch.allclose(Da @ Da.T, torch.eye(ir.dim, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(Da[:3, :3], torch.as_tensor(a[1]) * (-1.0) ** a[2], atol=1e-12)  # a spin: ±R
    assert Da[3:13, 13:].abs().max() == 0  # blocks do not mix


def test_matrix_of_a_finite_group_is_D():
    ir = Irreps("A1 + E", D4)
    assert torch.equal(ir.matrix(3), ir.D(3))
    with pytest.raises(GroupError):
        ir.matrix(99)


def test_matrix_refuses_bad_elements():
    with pytest.raises(GroupError, match="one component per factor"):
        Irreps("A1:1:odd", MAGNETIC).matrix((0, np.eye(3)))


def test_split_matches_the_factor_order():
    """A 2-dim factor after the Lie factor: the canonical order (finite first) is a permutation."""
    P = point_group("2mm", dim=2) * SO3() * Zn(3)
    for label in ("A1:1:k1", "B2:2:k1", "A2:0:k0"):
        irrep = P.irrep(label)
        s = split_irrep(irrep)
        F = point_group("2mm", dim=2) * Zn(3)
        for element in P.sample_elements(3, seed=1):
            g = F.index(element[0], element[2])
            M = np.kron(s.finite.matrices[g], SO3().irrep(s.lie[0]).matrix(element[1]))
            np.testing.assert_allclose(M[np.ix_(s.perm, s.perm)], irrep.matrix(element), atol=1e-12)
    assert not np.array_equal(split_irrep(P.irrep("A1:1:k1")).perm, np.arange(6))


def test_trivial_irreps():
    assert trivial_irrep(MAGNETIC).name == "A1:0:even" and is_trivial(trivial_irrep(MAGNETIC))
    assert not is_trivial(MAGNETIC.irrep("A1:0:odd")) and not is_trivial(MAGNETIC.irrep("A1:1:even"))
    assert trivial_irrep(SO3()).name == "0" and trivial_irrep(CHARGE).name == "A1:0"
    assert Irreps("3xA1:0:even", MAGNETIC).is_scalar() and not Irreps("A1:0:odd", MAGNETIC).is_scalar()


# -- the testing kit ------------------------------------------------------------------------------


def test_operations_cover_finite_elements_lie_tests_and_draws():
    ir = Irreps("A1:1:odd", MAGNETIC)
    report = equivariance_errors(lambda x: 2 * x, ir, ir, samples=5)
    n_finite, n_lie = 24, len(SO3().test_elements()) - 1 + 5
    assert len(report.errors) == n_finite + n_lie + (n_finite - 1)
    names = list(report.errors)
    assert names[0] == "E" and names[1] == "T" and names[2] == "C6"
    assert any(n.startswith("R(axis=[") for n in names)
    assert any(n.startswith("C6 · R(axis=") for n in names) and any(n.endswith("· T") for n in names)
    full = equivariance_errors(lambda x: 2 * x, ir, ir, samples=5, all_combinations=True)
    assert len(full.errors) == n_finite + n_lie + (n_finite - 1) * n_lie


def test_a_map_that_ignores_the_spin_rotation_fails_with_a_readable_name():
    ir = Irreps("A1:1:odd", MAGNETIC)
    project = torch.diag(torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64))  # drops S_z
    with pytest.raises(EquivarianceError, match=r"worst operation R\(axis=\[") as info:
        assert_equivariant(lambda x: x @ project, ir, ir)
    report = info.value.report
    assert report.errors["T"] < 1e-12 and report.errors["C6"] < 1e-12  # lattice and T are fine


def test_a_map_odd_under_t_is_caught():
    ir_in, ir_out = Irreps("A1:1:odd", MAGNETIC), Irreps("A1:1:even", MAGNETIC)
    report = equivariance_errors(lambda x: x, ir_in, ir_out)
    assert report.failures and report.errors["T"] > 1 and report.errors["C6"] < 1e-12


def test_u1_names_and_failures():
    ir = Irreps("A1:1", CHARGE)
    report = equivariance_errors(lambda x: x.flip(-1), ir, ir)
    assert "U1(θ=1.571)" in report.errors and report.worst[1] > 1


def test_samples_must_be_a_count():
    ir = Irreps("A1:1:odd", MAGNETIC)
    with pytest.raises(ValueError, match="samples"):
        equivariance_errors(lambda x: x, ir, ir, samples=-1)


def test_lattice_translations_and_site_moves():
    from latsym.lattice import PeriodicLattice, triangular

    lattice = PeriodicLattice(triangular(), 4)
    ir = Irreps("A1:1:odd", MAGNETIC)
    report = equivariance_errors(lambda x: x.roll(1, -1), ir, ir, lattice=lattice)
    assert report.errors["translation (1, 0)"] < 1e-12
    assert report.errors["C6"] > 0.1  # a shift is not a rotation about site 0


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_group_elements_strategy(data):
    x = data.draw(group_elements(MAGNETIC))
    assert MAGNETIC.check_element(x) is not None


# -- Linear ---------------------------------------------------------------------------------------


@fixture_ok
@given(st.data())
def test_linear_is_equivariant(dtype, data):
    P = data.draw(lie_groups())
    ir_in, ir_out = data.draw(irreps(P, max_mul=2)), data.draw(irreps(P, max_mul=2))
    torch.manual_seed(data.draw(st.integers(0, 100)))
    lin = Linear(ir_in, ir_out, bias=True, allow_zero=True).to(dtype)
    with torch.no_grad():
        lin.bias.normal_()
    assert_equivariant(lin, dtype=dtype, samples=4)


def test_linear_weights_follow_schur():
    lin = Linear("2xA1:1:odd + E1:2:even", "3xA1:1:odd + E1:2:even + A1:0:even", group=MAGNETIC,
                 allow_zero=True)
    assert lin.weight_numel == 2 * 3 + 1  # real-type irreps: one weight per pair of copies
    charge = Linear("2xE:1", "E:1", group=CHARGE)
    assert charge.weight_numel == 2 * 2  # charge 1 is complex-type: 1 and J


def test_linear_between_different_degrees_is_refused():
    with pytest.raises(ValueError, match="identically zero"):
        Linear("A1:1:odd", "A1:2:odd", group=MAGNETIC)
    with pytest.raises(ValueError, match="identically zero"):
        Linear("A1:1:odd", "A1:1:even", group=MAGNETIC)
    assert Linear("A1:1:odd", "A1:2:odd", group=MAGNETIC, allow_zero=True).weight_numel == 0


def test_linear_on_a_bare_lie_group():
    lin = Linear("2x1 + 0", "1 + 2x0", group=SO3()).double()
    assert lin.weight_numel == 2 + 2
    assert_equivariant(lin)


@pytest.mark.parametrize("kwargs", [{"kinds": ("spin", "orbital")}, {"kinds": ()}, {"symbols": ()}])
def test_lie_groups_strategy_refuses_unknown_kinds(kwargs):
    with pytest.raises(ValueError, match="kinds are some of"):
        lie_groups(**kwargs)


def test_kronecker_order_of_two_finite_factors_and_a_lie_factor():
    """G × T × SO3 and G × SO3 × T are different orders of the same factors: both work."""
    for P in (C6V * TimeReversal() * SO3(), C6V * SO3() * TimeReversal()):
        label = "E1:odd:2" if P.factors[1] == TimeReversal() else "E1:2:odd"
        lin = Linear(f"2x{label}", label, group=P).double()
        assert lin.weight_numel == 2
        assert_equivariant(lin, samples=3)


def test_layers_and_irreps_pickle_and_copy():
    import copy
    import pickle

    ir = Irreps("2xA1:1:odd + E1:0:even", MAGNETIC)
    assert pickle.loads(pickle.dumps(ir)) == ir
    lin = Linear(ir, ir).double()
    twin = copy.deepcopy(lin)
    x = ir.randn(3, -1, dtype=torch.float64)
    torch.testing.assert_close(twin(x), lin(x))
    assert_equivariant(twin, samples=2)
