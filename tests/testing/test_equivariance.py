"""assert_equivariant: every element, translations, lattices, callables, tolerances and messages."""

from pathlib import Path

import numpy as np
import pytest
import torch

from latsym import LatsymError
from latsym.group import Z2, point_group
from latsym.lattice import PeriodicLattice, honeycomb, simple_cubic, square, triangular
from latsym.nn import Irreps
from latsym.testing import (
    TOLERANCES,
    EquivarianceError,
    EquivarianceReport,
    assert_equivariant,
    equivariance_errors,
)

D4 = point_group("4mm", dim=2)
SQUARE = PeriodicLattice(square(), 5)


def laplacian(x):
    """Nearest-neighbour Laplacian of a (batch, channels, L, L) field: D4- and translation-equivariant."""
    return x.roll(1, -1) + x.roll(-1, -1) + x.roll(1, -2) + x.roll(-1, -2) - 4 * x


def test_per_site_pass_reports_every_element():
    ir = Irreps("2xA1 + E + B2", D4)
    report = assert_equivariant(lambda x: 3 * x, ir, ir)
    assert list(report.errors) == D4.names
    assert report.worst[1] <= TOLERANCES[torch.float64]


def test_per_site_failure_names_the_worst_element():
    ir = Irreps("E", D4)
    stretch = torch.diag(torch.tensor([1.0, 2.0], dtype=torch.float64))
    with pytest.raises(AssertionError) as info:
        assert_equivariant(lambda x: x @ stretch, ir, ir)
    message = str(info.value)
    # diag(1, 2) commutes with C2 and the axis mirrors only: the 4 other elements fail
    assert "4 of 8 operations fail" in message
    worst = message.split("worst operation ")[1].split(" has error")[0]
    assert worst in {"C4", "C4^-1", "σd", "σd'"} or worst in D4.names
    assert D4.class_of[D4.names.index(worst)] not in {D4.class_of[0], D4.class_of[D4.names.index("C2")]}


def test_lattice_fields_elements_and_translations():
    a1 = Irreps("A1", D4)
    report = assert_equivariant(laplacian, a1, a1, lattice=SQUARE)
    assert "translation (1, 0)" in report.errors and "translation (1, 1)" in report.errors
    with pytest.raises(AssertionError, match="of 11 operations fail"):
        assert_equivariant(lambda x: x.roll(1, -1) - x, a1, a1, lattice=SQUARE)
    weights = torch.arange(25.0, dtype=torch.float64).reshape(5, 5)
    with pytest.raises(AssertionError, match="translation"):
        assert_equivariant(lambda x: x * weights, a1, a1, lattice=SQUARE, translations=[(1, 0)],
                           group=None)


def test_lattice_field_with_channels_uses_both_actions():
    """A gradient maps an A1 field to an E field: the E components must rotate with the sites."""
    a1, e = Irreps("A1", D4), Irreps("E", D4)

    def gradient(x):  # central differences; axis -2 is x (cells along a1), axis -1 is y
        return torch.cat([x.roll(-1, -2) - x.roll(1, -2), x.roll(-1, -1) - x.roll(1, -1)], dim=1)

    assert_equivariant(gradient, a1, e, lattice=SQUARE)
    with pytest.raises(AssertionError):
        assert_equivariant(lambda x: gradient(x).flip(1), a1, e, lattice=SQUARE)


def test_all_translations_and_lattices_with_a_basis():
    a1 = Irreps("A1", point_group("3m", dim=2, setting="3m1"))
    lat = PeriodicLattice(honeycomb(), 3)

    def mean_field(x):
        return x + x.mean(dim=(-3, -2, -1), keepdim=True)

    report = assert_equivariant(mean_field, a1, a1, lattice=lat, translations="all")
    assert len(report.errors) == 6 + 8
    sublattice_weight = torch.tensor([1.0, 2.0], dtype=torch.float64)[:, None, None]
    # the site group fixes the sublattices, so a weight per sublattice is equivariant
    assert_equivariant(lambda x: x * sublattice_weight, a1, a1, lattice=lat)
    bias = torch.zeros(2, 3, 3, dtype=torch.float64)
    bias[0, 0, 0] = 1.0
    with pytest.raises(AssertionError, match="translation"):
        assert_equivariant(lambda x: x * (1 + bias), a1, a1, lattice=lat, translations="all")


def test_three_dimensional_lattice():
    Oh = point_group("m-3m")
    a1 = Irreps("A1g", Oh)

    def lap3(x):
        return sum(x.roll(s, d) for s in (1, -1) for d in (-1, -2, -3)) - 6 * x

    report = assert_equivariant(lap3, a1, a1, lattice=PeriodicLattice(simple_cubic(), 3))
    assert len(report.errors) == 48 + 4


def test_numpy_force_on_odd_field_without_channel_axis():
    """The Holstein use case: a numpy force on (batch, L, L) fields, odd under Z2 and D4-invariant."""
    G = D4 * Z2()
    odd = Irreps("A1:odd", G)

    def force(q):
        nb = sum(np.roll(q, s, axis=a) for s in (1, -1) for a in (1, 2))
        return -q + 0.1 * nb - 0.05 * q**3

    report = assert_equivariant(force, odd, odd, lattice=SQUARE, channel_dim=None, backend="numpy")
    assert len(report.errors) == 16 + 3
    with pytest.raises(AssertionError, match="8 of 19 operations fail"):  # the 8 elements g·P
        assert_equivariant(lambda q: force(q) + q**2, odd, odd, lattice=SQUARE, channel_dim=None,
                           backend="numpy")


def test_triangular_lattice_needs_lattice_coordinates():
    C6v = triangular().group
    a1 = Irreps("A1", C6v)
    lat = PeriodicLattice(triangular(), 4)

    def nn_sum(x, diagonal):  # six neighbours in cell coordinates: ±a1, ±a2, ±(a1 + a2) (120° axes)
        return (x.roll(1, -2) + x.roll(-1, -2) + x.roll(1, -1) + x.roll(-1, -1)
                + x.roll(diagonal, (-2, -1)) + x.roll(tuple(-d for d in diagonal), (-2, -1)))

    assert_equivariant(lambda x: nn_sum(x, (1, 1)), a1, a1, lattice=lat)
    with pytest.raises(AssertionError):  # the 60° neighbour set is not 6-fold symmetric on 120° axes
        assert_equivariant(lambda x: nn_sum(x, (1, -1)), a1, a1, lattice=lat)


def test_dtype_tolerances_and_atol():
    ir = Irreps("A1 + E", D4)
    assert_equivariant(lambda x: x * 1.5, ir, ir, dtype=torch.float32)
    noisy = 1e-7

    def slightly_off(x):
        return x + noisy * x[..., :1] ** 2

    assert_equivariant(slightly_off, ir, ir, dtype=torch.float32)  # 1e-7 < float32 tolerance 1e-5
    with pytest.raises(AssertionError, match="tolerance 1e-10"):
        assert_equivariant(slightly_off, ir, ir, dtype=torch.float64)
    assert_equivariant(slightly_off, ir, ir, dtype=torch.float64, atol=1e-5)


def test_infers_irreps_and_several_inputs_and_outputs():
    ir = Irreps("A1 + E", D4)

    class Module(torch.nn.Module):
        irreps_in = (ir, ir)
        irreps_out = (ir, Irreps("A1", D4))

        def forward(self, a, b):
            return a + b, (a * b).sum(dim=1, keepdim=True)

    assert_equivariant(Module())
    with pytest.raises(ValueError, match="returned 2 outputs, but 1 irreps_out"):
        assert_equivariant(Module(), irreps_out=ir)


def test_strings_with_group():
    assert_equivariant(lambda x: -x, "A2 + E", "A2 + E", group=D4)


A1 = {"irreps_in": Irreps("A1", D4), "irreps_out": Irreps("A1", D4)}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, TypeError, "irreps_in is needed"),
        ({"irreps_in": "A1", "irreps_out": "A1"}, TypeError, "needs group="),
        ({**A1, "backend": "jax"}, ValueError, "backend"),
        ({**A1, "translations": "all"}, ValueError, "translations need a lattice"),
        ({**A1, "lattice": (5, 5)}, TypeError, "PeriodicLattice"),
        ({"irreps_in": Irreps("E", D4), "irreps_out": Irreps("E", D4), "channel_dim": None}, ValueError,
         "one-dimensional"),
        ({**A1, "irreps_out": Irreps("A1", point_group("6mm", dim=2))}, ValueError, "one group"),
        ({**A1, "lattice": SQUARE, "channel_dim": -1}, ValueError, "channel_dim=1"),
        ({**A1, "lattice": SQUARE, "translations": "some"}, ValueError, "translations must be"),
        ({**A1, "lattice": SQUARE, "translations": [(1, 0, 0)]}, ValueError, "lattice dimension 2"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        assert_equivariant(lambda x: x, **kwargs)


def test_purely_internal_group_moves_no_sites():
    K = Z2()
    odd = Irreps("odd", K)
    assert_equivariant(lambda q: torch.tanh(q) + laplacian(q), odd, odd, lattice=SQUARE)
    with pytest.raises(AssertionError, match="worst operation P"):
        assert_equivariant(lambda q: q**2, odd, odd, lattice=SQUARE)


def test_strategies_are_importable_lazily():
    import latsym.testing

    assert callable(latsym.testing.groups)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        latsym.testing.nope


def test_empty_output():
    assert_equivariant(lambda x: x[:, :0], Irreps("A1", D4), Irreps("", D4))


def test_failure_hints_at_a_low_precision_module():
    from latsym.nn import Neighbourhood

    def neighbourhood():  # no weights: deterministic; its projection holds √3/2, 1/√6, ...
        return Neighbourhood(PeriodicLattice(triangular(), 4), None, 1.0, "A1 + E1")

    low = neighbourhood().to(torch.float32)
    hint = r"holds torch\.float32 tensors: convert it with \.to\(torch\.float64\)"
    with pytest.raises(AssertionError, match=hint):
        assert_equivariant(low)
    assert_equivariant(low, dtype=torch.float32)
    assert_equivariant(neighbourhood())


STRETCH = torch.diag(torch.tensor([1.0, 2.0], dtype=torch.float64))  # commutes with C2, σx, σy only


def test_the_error_carries_the_report_and_names_the_worst_element():
    ir = Irreps("E", D4)
    with pytest.raises(EquivarianceError) as info:
        assert_equivariant(lambda x: x @ STRETCH, ir, ir)
    error = info.value
    assert isinstance(error, AssertionError) and isinstance(error, LatsymError)
    report = error.report
    assert isinstance(report, EquivarianceReport) and list(report.errors) == D4.names
    assert set(report.failures) == {"C4", "C4^-1", "σ[11]", "σ[1-1]"} and not report.passed
    worst, err = report.worst
    assert worst == next(iter(report.failures)) and err == max(report.errors.values())
    assert f"worst operation {worst} has error {err:.3g}" in str(error)
    assert report.group == D4 and report.dtype == torch.float64


def test_equivariance_errors_reports_without_asserting_and_assert_agrees():
    ir = Irreps("E", D4)
    report = equivariance_errors(lambda x: x @ STRETCH, ir, ir)
    with pytest.raises(EquivarianceError) as info:
        assert_equivariant(lambda x: x @ STRETCH, ir, ir)
    assert info.value.report == report
    assert report.errors["E"] == 0.0 and report.errors["C4"] > 0.1
    good = equivariance_errors(laplacian, Irreps("A1", D4), Irreps("A1", D4), lattice=SQUARE)
    assert good.passed and good.failures == {} and len(good.errors) == 8 + 3
    assert "translation (1, 1)" in str(good) and "FAIL" not in str(good)
    assert "FAIL" in str(report)


def test_a_nan_output_is_the_worst_failure():
    ir = Irreps("A1", D4)
    report = equivariance_errors(lambda x: x / (x - x), ir, ir)
    assert not report.passed and np.isnan(report.worst[1]) and len(report.failures) == 8


def test_the_error_pickles_with_its_report():
    import pickle

    ir = Irreps("E", D4)
    with pytest.raises(EquivarianceError) as info:
        assert_equivariant(lambda x: x @ STRETCH, ir, ir)
    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value) and copy.report.errors == info.value.report.errors


def test_the_kit_hides_its_own_frames_from_pytest_tracebacks():
    from latsym.testing import _equivariance

    kit_file = str(Path(_equivariance.__file__))
    ir = Irreps("E", D4)

    def module(x):
        if x.shape[0] > 1:
            raise RuntimeError("boom inside the module")
        return x

    for fn, error in ((lambda x: x @ STRETCH, EquivarianceError), (module, RuntimeError)):
        with pytest.raises(error) as info:
            assert_equivariant(fn, ir, ir)
        kit = {str(entry.path) for entry in info.traceback} & {kit_file}  # the kit was on the stack ...
        shown = {str(entry.path) for entry in info.traceback.filter(info)}  # ... pytest prints none of it
        assert kit and shown and not shown & kit, shown
