"""HolsteinParams: defaults, validation, dict round trip."""

import math

import numpy as np
import pytest
from latsym_holstein.params import HolsteinParams


def test_defaults_are_the_physics_md_values():
    p = HolsteinParams()
    assert (p.t, p.g, p.k, p.kappa, p.mass, p.temperature, p.filling) == (1.0, 3.5, 1.0, 0.18, 5.0, 0.1, 0.5)
    assert (p.dt, p.gamma) == (0.05, 0.2)


def test_integers_become_floats_and_params_are_frozen():
    p = HolsteinParams(g=3, temperature=0)
    assert isinstance(p.g, float) and p.temperature == 0.0
    with pytest.raises(AttributeError):
        p.g = 1.0


def test_numpy_scalars_are_accepted():
    p = HolsteinParams(g=np.float32(2.5), k=np.int64(2))
    assert p.g == 2.5 and p.k == 2.0 and type(p.g) is float and type(p.k) is float


def test_dict_round_trip_and_partial_dict():
    p = HolsteinParams(g=2.0, filling=0.25)
    assert HolsteinParams.from_dict(p.to_dict()) == p
    assert HolsteinParams.from_dict({"kappa": 0.1}) == HolsteinParams(kappa=0.1)


def test_unknown_keys_are_named_with_the_accepted_ones():
    message = r"unknown Holstein parameter\(s\) \['beta', 'tt'\]; accepted: .*'kappa'"
    with pytest.raises(ValueError, match=message):
        HolsteinParams.from_dict({"tt": 1.0, "beta": 2.0, "g": 1.0})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": -0.1}, "temperature must be >= 0"),
        ({"mass": 0.0}, "mass must be positive"),
        ({"mass": -5.0}, "mass must be positive"),
        ({"filling": 0.0}, "strictly between 0 and 1"),
        ({"filling": 1.0}, "strictly between 0 and 1"),
        ({"filling": 1.5}, "strictly between 0 and 1"),
        ({"g": math.nan}, "g must be finite"),
        ({"t": math.inf}, "t must be finite"),
        ({"dt": 0.0}, "dt must be positive"),
        ({"gamma": -1.0}, "gamma must be >= 0"),
        ({"k": 0.5, "kappa": 0.2}, r"need k > 4\|kappa\|"),
        ({"kappa": -0.3}, r"need k > 4\|kappa\|"),
    ],
)
def test_invalid_values_raise_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HolsteinParams(**kwargs)


@pytest.mark.parametrize("value", ["1.0", None, True, np.bool_(True), 1 + 2j, np.array([1.0])])
def test_non_numbers_raise_type_errors(value):
    with pytest.raises(TypeError, match="g must be a real number"):
        HolsteinParams(g=value)
