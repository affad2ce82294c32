"""One base for latsym's exceptions: ``LatsymError``, next to each one's built-in base."""

import importlib
import inspect
import pkgutil

import pytest

import latsym
from latsym import LatsymError

#: every public exception class of latsym and the built-in base it has always had
OLD_BASES = {
    "latsym.group.GroupError": ValueError,
    "latsym.lattice.LatticeError": ValueError,
    "latsym.plugin.PluginError": RuntimeError,
    "latsym.dynamics.NonFiniteError": RuntimeError,
    "latsym.dynamics.ResumeError": ValueError,
    "latsym.testing.EquivarianceError": AssertionError,
}


def _resolve(dotted: str) -> type:
    module, name = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _exception_classes() -> dict[str, type]:
    """Every public exception class defined in a latsym module (warnings aside)."""
    found = {}
    for info in pkgutil.walk_packages(latsym.__path__, "latsym."):
        module = importlib.import_module(info.name)
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if (issubclass(obj, BaseException) and not issubclass(obj, Warning)
                    and obj.__module__ == info.name and not name.startswith("_")):
                found[f"{obj.__module__}.{name}"] = obj
    return found


@pytest.mark.parametrize(("dotted", "old_base"), OLD_BASES.items())
def test_each_exception_is_a_latsym_error_and_keeps_its_built_in_base(dotted, old_base):
    cls = _resolve(dotted)
    assert issubclass(cls, LatsymError) and issubclass(cls, old_base)


def test_no_exception_class_of_latsym_escapes_the_base():
    found = _exception_classes()
    assert len(found) >= len(OLD_BASES)
    assert {cls for cls in found.values()} >= {_resolve(d) for d in OLD_BASES}
    assert [name for name, cls in found.items() if not issubclass(cls, LatsymError)] == []


def test_the_base_is_exported_at_the_top_level_and_catches_a_bad_symbol():
    assert "LatsymError" in latsym.__all__
    with pytest.raises(LatsymError, match="no-such-group"):
        latsym.point_group("no-such-group")
