"""examples/property_tests.py: every test in it passes, and its checks fail on a broken model."""

import importlib.util
import inspect
from pathlib import Path

import pytest
import torch

EXAMPLE = Path(__file__).parents[2] / "examples" / "property_tests.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("property_tests_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load_example()
TESTS = sorted(name for name, f in vars(example).items() if name.startswith("test_") and callable(f))


def test_the_example_has_its_tests():
    assert len(TESTS) >= 8
    assert any("caught" in name for name in TESTS)  # the deliberately broken models


@pytest.mark.parametrize("name", TESTS)
def test_example_test_passes(name):
    test = getattr(example, name)
    if "dtype" in inspect.signature(test).parameters:  # @pytest.mark.parametrize("dtype", ...)
        for dtype in example.DTYPES:
            test(dtype)
    else:
        test()


def test_the_model_checks_fail_on_a_broken_model(monkeypatch):
    # swap the model under test for the untied convolution: the model's own tests must now fail
    monkeypatch.setattr(example, "_model", example._untied)
    with pytest.raises(AssertionError, match="not equivariant"):
        example.test_force_field_is_equivariant(torch.float64)
    # the hypothesis property, on one drawn input (no search, no shrinking): a fourfold rotation
    commutes = example.test_force_field_commutes_with_each_element.hypothesis.inner_test
    q = torch.randn(1, *example.LATTICE.lattice_shape, dtype=torch.float64)
    with pytest.raises(AssertionError, match="max difference"):
        commutes(q=q, g=example.G.names.index("C4"))


def test_act_is_a_group_action():
    # act(g, act(h, q)) == act(g·h, q), and the identity does nothing
    G = example.G
    q = torch.randn(2, *example.LATTICE.lattice_shape, dtype=torch.float64)
    assert torch.equal(example.act(0, q), q)
    for g in range(G.order):
        for h in range(G.order):
            assert torch.equal(example.act(g, example.act(h, q)), example.act(int(G.table[g, h]), q))
