"""KondoParams: defaults, conversion and every refusal."""

import math

import pytest
from latsym_kondo import KondoParams


def test_defaults_and_round_trip():
    p = KondoParams()
    assert (p.t, p.J, p.filling, p.temperature) == (1.0, 2.0, 0.5, 0.01)
    assert KondoParams.from_dict(p.to_dict()) == p
    assert isinstance(KondoParams(J=3).J, float)


@pytest.mark.parametrize("filling", [0.0, 2.0, -0.1, 2.5])
def test_filling_outside_open_interval_is_refused(filling):
    with pytest.raises(ValueError, match=r"filling .* strictly between 0 and 2"):
        KondoParams(filling=filling)


@pytest.mark.parametrize("temperature", [0.0, -0.01])
def test_non_positive_temperature_is_refused(temperature):
    with pytest.raises(ValueError, match="temperature must be positive"):
        KondoParams(temperature=temperature)


@pytest.mark.parametrize("name", ["t", "J", "filling", "temperature"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_non_finite_values_are_refused(name, value):
    with pytest.raises(ValueError, match=rf"KondoParams\.{name} must be finite"):
        KondoParams(**{name: value})


@pytest.mark.parametrize("value", [True, "2.0", None, 1j])
def test_non_real_values_are_refused(value):
    with pytest.raises(TypeError, match=r"KondoParams\.J must be a real number"):
        KondoParams(J=value)


def test_overflowing_energy_scale_is_refused():
    with pytest.raises(ValueError, match="overflows"):
        KondoParams(t=1e308)


def test_unknown_keys_are_named():
    with pytest.raises(ValueError, match=r"unknown Kondo parameter\(s\) \['g'\]"):
        KondoParams.from_dict({"g": 1.0})
