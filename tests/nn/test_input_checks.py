"""The layers' shared input check: meta tensors, devices, dtypes and empty fields get errors that
name the fix."""

import pytest
import torch

from latsym.group import point_group
from latsym.lattice import LatticeError, PeriodicLattice, square
from latsym.nn import (
    BatchNorm,
    Gate,
    Irreps,
    LatticeConv,
    LatticePool,
    Linear,
    Neighbourhood,
    NormActivation,
    TensorSquare,
)

D4 = point_group("4mm", dim=2)
IR = Irreps("A1 + E", D4)
LATTICE = PeriodicLattice(square(), 4)

LAYERS = {
    "Linear": lambda: Linear(IR, IR, bias=True),
    "Gate": lambda: Gate("A1", torch.tanh, "A1", torch.sigmoid, "E", group=D4),
    "NormActivation": lambda: NormActivation(IR, torch.tanh, bias=True),
    "BatchNorm": lambda: BatchNorm(IR),
    "TensorSquare": lambda: TensorSquare(IR, IR),
    "LatticeConv": lambda: LatticeConv(LATTICE, IR, IR, 1.0),
    "Neighbourhood": lambda: Neighbourhood(LATTICE, None, 1.0, IR),
}


def _field(layer, **kwargs) -> torch.Tensor:
    return torch.zeros(2, layer.irreps_in.dim, 4, 4, **kwargs)


@pytest.mark.parametrize("name", LAYERS)
def test_a_meta_input_to_a_module_with_values_is_refused_with_the_fix(name):
    layer = LAYERS[name]()
    with pytest.raises(ValueError, match=rf"^{name} got a meta tensor, .* no values.*module.to\('meta'\)"):
        layer(_field(layer, device="meta"))
    shapes = layer.to("meta")(_field(layer, device="meta"))  # a module on the meta device infers shapes
    assert shapes.device.type == "meta" and shapes.shape[0] == 2


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize(("dtype", "match"), [
    (torch.int64, r"floating-point field, got torch.int64; .*x.to\(torch.float32\)"),
    (torch.bool, r"floating-point field, got torch.bool"),
    (torch.complex64, r"real field, got torch.complex64: .*torch.view_as_real"),
])
def test_a_non_floating_input_is_refused_with_the_conversion(name, dtype, match):
    layer = LAYERS[name]()
    with pytest.raises(TypeError, match=rf"^{name} takes a {match}"):
        layer(_field(layer, dtype=dtype))


def test_an_input_on_another_device_names_both_devices():
    layer = Linear(IR, IR).to("meta")
    match = r"input on cpu but the module's tensors are on meta: .*module.to\('cpu'\)"
    with pytest.raises(ValueError, match=match):
        layer(torch.zeros(2, 3))


def test_empty_fields_work_where_the_result_is_defined_and_fail_clearly_where_not():
    linear = Linear(IR, IR, bias=True)
    assert linear(torch.zeros(0, 3, 4, 4)).shape == (0, 3, 4, 4)  # an empty batch
    assert linear(torch.zeros(2, 3, 0, 4)).shape == (2, 3, 0, 4)  # no sites: was a raw conv1d error
    with pytest.raises(ValueError, match=r"LatticePool got a field with no sites, shape \(2, 3, 0, 4\)"):
        LatticePool(IR)(torch.zeros(2, 3, 0, 4))
    with pytest.raises(LatticeError, match=r"\(0, 4\) cells is smaller than the stencil"):
        LatticeConv(LATTICE, IR, IR, 1.0)(torch.zeros(2, 3, 0, 4))
    with pytest.raises(ValueError, match="BatchNorm needs more than one value per channel"):
        BatchNorm(IR)(torch.zeros(0, 3, 4, 4))
