"""Dropout: whole irrep copies dropped, the right rate and scale, identity in eval mode, refusals."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from latsym.group import Z2, permutation_representation, point_group, vector_representation
from latsym.lattice import PeriodicLattice, square
from latsym.nn import Dropout, Irreps, RepType
from latsym.testing import assert_equivariant, groups, irreps

D4 = point_group("4mm", dim=2)
D4Z2 = D4 * Z2()


@given(st.data())
def test_copies_are_dropped_whole_on_many_groups(data):
    """The output is the input times one multiplier per copy and site, 0 or 1/(1 − p): a scalar
    per copy commutes with the irrep matrices, so each realisation is a copy-wise rescaling."""
    G = data.draw(groups())
    field = data.draw(irreps(G))
    p = data.draw(st.sampled_from([0.2, 0.5, 0.9]))
    drop = Dropout(field, p=p).double()
    x = torch.rand(7, field.dim, 3, 3, dtype=torch.float64) + 0.5  # no zeros: the ratio is defined
    ratio = drop(x) / x
    for (mul, ir), part in zip(field, field.slices(), strict=True):
        copies = ratio[:, part].unflatten(1, (mul, ir.dim))
        torch.testing.assert_close(copies, copies[:, :, :1].expand_as(copies), rtol=0, atol=1e-12)
    kept = ratio[ratio != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / (1 - p)), rtol=0, atol=1e-12)


def test_rate_and_mean_are_right():
    """Each copy is kept with probability 1 − p and the output's mean is the input's (binomial
    bounds at 5 standard deviations; a fixed seed)."""
    torch.manual_seed(0)
    p, n = 0.3, 20000
    drop = Dropout("A1:odd + E:even", group=D4Z2, p=p).double()
    y = drop(torch.ones(n, 3, dtype=torch.float64))
    kept = (y != 0).double().mean(0)
    bound = 5 * (p * (1 - p) / n) ** 0.5
    assert float((kept - (1 - p)).abs().max()) < bound
    assert float((y.mean(0) - 1).abs().max()) < bound / (1 - p)


def test_sites_and_samples_are_dropped_independently():
    torch.manual_seed(1)
    y = Dropout("E", group=D4, p=0.5)(torch.ones(4, 2, 16, 16))
    kept = (y[:, 0] != 0).float()
    assert 0 < float(kept.mean()) < 1
    assert not torch.equal(kept[0], kept[1])                      # a mask per sample
    assert not torch.equal(kept[0, 0], kept[0, 1])                # and per site


def test_eval_mode_and_p_zero_are_the_identity(dtype):
    drop = Dropout("2xA1:even + A1:odd + E:odd", group=D4Z2, p=0.4).to(dtype).eval()
    x = drop.irreps_in.randn(3, -1, 4, 4, dtype=dtype)
    assert drop(x) is x
    assert_equivariant(drop, dtype=dtype, lattice=PeriodicLattice(square(), 4))
    zero = Dropout("E", group=D4, p=0.0)
    x = torch.randn(2, 2)
    assert zero(x) is x


def test_gradient_is_the_mask():
    torch.manual_seed(2)
    drop = Dropout("A1 + E", group=D4, p=0.5)
    x = torch.randn(5, 3, 4, 4, requires_grad=True)
    y = drop(x)
    y.sum().backward()
    torch.testing.assert_close(x.grad, (y / x).detach())


def test_permutation_fields_drop_each_channel():
    rho = permutation_representation(D4, square().stencil(1.0).action)
    torch.manual_seed(3)
    drop = Dropout(RepType(rho, mul=2), p=0.5)
    y = drop(torch.ones(200, 10))
    assert set(y.unique().tolist()) == {0.0, 2.0}
    assert not torch.equal(y[:, 0], y[:, 1])  # channels of one permutation field are independent


def test_bad_arguments_and_inputs():
    assert Dropout("A1", group=D4, p=np.float64(0.25)).p == 0.25
    for p in (1.0, -0.1, 2, "half", False):
        with pytest.raises(ValueError, match=r"probability p must be in \[0, 1\)"):
            Dropout("A1", group=D4, p=p)
    with pytest.raises(ValueError, match="needs a permutation field"):
        Dropout(RepType(vector_representation(D4)))
    with pytest.raises(ValueError, match="expects 3 channels on axis 1"):
        Dropout(Irreps("A1 + E", D4))(torch.randn(2, 2))
    with pytest.raises(TypeError, match="floating-point"):
        Dropout("A1", group=D4)(torch.ones(2, 1, dtype=torch.int64))
