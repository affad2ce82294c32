"""Hypothesis strategies for property-based symmetry tests of your own models.

A symmetry test of a model in a few lines::

    from hypothesis import given
    from latsym.testing import assert_equivariant, groups, layer_stacks
    from hypothesis import strategies as st

    @given(st.data())
    def test_my_stack_is_equivariant(data):
        G = data.draw(groups(dims=(2,)))
        model = data.draw(layer_stacks(G))
        assert_equivariant(model)

Every strategy is deterministic under hypothesis' derandomised CI profile: random tensors come
from a drawn integer seed, never from global random state.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from latsym.group import SO3, U1, Z2, CompactGroup, Group, TimeReversal, point_group, point_group_symbols
from latsym.lattice import PeriodicLattice

__all__ = [
    "group_elements",
    "groups",
    "irreps",
    "lattice_configurations",
    "layer_stacks",
    "lie_groups",
    "quaternion_group",
    "typed_fields",
]


def quaternion_group() -> Group:
    """The quaternion group Q8 as 4×4 real matrices (left multiplication by i, j): a custom group
    with a quaternionic (type H) irrep of real dimension 4.

    >>> from latsym.group import real_irreps
    >>> Q8 = quaternion_group()
    >>> Q8.order, [ir.type for ir in real_irreps(Q8)]
    (8, ['R', 'R', 'R', 'R', 'H'])
    """
    i = np.array([[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, -1], [0, 0, 1, 0]], dtype=float)
    j = np.array([[0, 0, -1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, -1, 0, 0]], dtype=float)
    return Group.from_generators([i, j], name="Q8")


def groups(*, dims=(2, 3), internal: bool | None = None, custom: bool = True) -> st.SearchStrategy[Group]:
    """Groups from the point-group catalogue (``dims``: 2 for the 10 plane groups, 3 for the 32
    crystallographic ones), optionally times an internal ``Z2``, plus the custom Q8.

    Args:
        dims: which catalogues to draw from.
        internal: ``True`` always multiplies by ``Z2()``, ``False`` never, ``None`` either.
        custom: include :func:`quaternion_group` (type-H irreps).
    """
    symbols = [(info.hermann_mauguin, d) for d in dims for info in point_group_symbols(d)]
    if not symbols and not custom:
        raise ValueError("no groups to draw: give dims or custom=True")
    bases = st.sampled_from(symbols).map(lambda s: point_group(s[0], dim=s[1])) if symbols else st.nothing()
    if custom:
        bases = bases | st.just(None).map(lambda _: quaternion_group())
    with_k = st.booleans() if internal is None else st.just(internal)
    return st.tuples(bases, with_k).map(lambda t: t[0] * Z2() if t[1] else t[0])


def lie_groups(*, symbols=("6mm", "4mm"), kinds=("spin", "magnetic", "charge")) -> st.SearchStrategy:
    """Plane point groups (Hermann–Mauguin ``symbols``, ``dim=2``) times a compact Lie group:
    ``"spin"`` draws ``G * SO3()``, ``"magnetic"`` ``G * SO3() * TimeReversal()`` (classical
    spins are ``"A1:1:odd"``), ``"charge"`` ``G * U1()``.

    >>> from hypothesis import find
    >>> find(lie_groups(kinds=("magnetic",)), lambda P: True).name
    'C6v×SO3×time_reversal'
    """
    makers = {"spin": lambda G: G * SO3(), "magnetic": lambda G: G * SO3() * TimeReversal(),
              "charge": lambda G: G * U1()}
    unknown = [k for k in kinds if k not in makers]
    if unknown or not kinds or not symbols:
        raise ValueError(f"kinds are some of {sorted(makers)} and symbols a non-empty list; got {kinds!r}, "
                         f"{symbols!r}")
    return st.tuples(st.sampled_from(list(symbols)), st.sampled_from(list(kinds))).map(
        lambda t: makers[t[1]](point_group(t[0], dim=2)))


def group_elements(group: CompactGroup, *, samples: int = 16) -> st.SearchStrategy:
    """Element indices ``0 .. |G|-1`` of a finite ``group`` (shrinking towards the identity); for a
    group with Lie factors its ``test_elements()`` or one of ``samples`` seeded random draws."""
    if group.is_finite:
        return st.integers(0, group.order - 1)
    return st.sampled_from(group.test_elements()) | st.integers(0, samples - 1).map(
        lambda k: group.sample_elements(1, seed=k)[0])


def irreps(group: CompactGroup, *, max_terms: int = 4, max_mul: int = 3, min_terms: int = 1,
           max_l: int = 2, max_charge: int = 2):
    """:class:`~latsym.nn.Irreps` of ``group``: ``min_terms..max_terms`` terms of multiplicity
    ``1..max_mul`` drawn from the core's irreps (repeats allowed, order as drawn); for a group with
    Lie factors, from its irreps up to ``max_l`` (SO3) and ``max_charge`` (U1)."""
    from latsym.nn import Irreps
    from latsym.nn._split import all_irreps as every_irrep
    from latsym.nn._split import lie_factors

    cutoffs = {"max_l": max_l, "max_charge": max_charge}
    all_irreps = every_irrep(group, **{f.cutoff: cutoffs[f.cutoff] for f in lie_factors(group)})
    term = st.tuples(st.integers(1, max_mul), st.sampled_from(all_irreps))
    return st.lists(term, min_size=min_terms, max_size=max_terms).map(lambda ts: Irreps(ts, group))


def typed_fields(field_type, *, batch: int = 2, lattice_shape: tuple[int, ...] = (),
                 dtype: torch.dtype = torch.float64) -> st.SearchStrategy[torch.Tensor]:
    """Random N(0, 1) fields ``(batch, field_type.dim, *lattice_shape)`` from a drawn seed."""
    def make(seed: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        return field_type.randn(batch, -1, *lattice_shape, generator=gen, dtype=torch.float64).to(dtype)

    return st.integers(0, 2**32 - 1).map(make)


def lattice_configurations(lattice: PeriodicLattice, *, batch: int = 1, scale: float = 1.0,
                           dtype: torch.dtype = torch.float64) -> st.SearchStrategy[torch.Tensor]:
    """Random scalar configurations ``(batch, *lattice.lattice_shape)``: i.i.d. N(0, scale²) values,
    or a staggered (checkerboard-like) pattern plus noise, from a drawn seed."""
    shape = lattice.lattice_shape
    parity = np.indices(shape).sum(axis=0) % 2
    stagger = torch.as_tensor(1.0 - 2.0 * parity, dtype=torch.float64)

    def make(args) -> torch.Tensor:
        seed, staggered = args
        gen = torch.Generator().manual_seed(seed)
        q = scale * torch.randn(batch, *shape, generator=gen, dtype=torch.float64)
        if staggered:
            q = 0.2 * q + scale * stagger
        return q.to(dtype)

    return st.tuples(st.integers(0, 2**32 - 1), st.booleans()).map(make)


@st.composite
def layer_stacks(draw, group: Group, *, depth: tuple[int, int] = (1, 3), max_mul: int = 2,
                 channel_dim: int = 1, lattice: PeriodicLattice | None = None, radius: float = 1.0,
                 centre=None):
    """Random :class:`~latsym.nn.Sequential` stacks of ``Linear`` → ``Gate`` blocks (and
    ``NormActivation``/``TensorSquare``/``BatchNorm`` at random; a ``BatchNorm`` is in evaluation
    mode with random running statistics, so any batch size works) over ``group``, in float64, with
    ``irreps_in``/``irreps_out`` declared.

    With a periodic ``lattice`` every block starts with a :class:`~latsym.nn.LatticeConv` of
    ``radius`` (about ``centre`` when given, e.g. ``kagome().centre`` for its 6mm) instead of the
    ``Linear``, and the stack carries ``lattice`` and ``centre`` for
    :func:`~latsym.testing.assert_equivariant`; ``channel_dim`` must then be 1."""
    from latsym.nn import (
        BatchNorm,
        Gate,
        Irreps,
        LatticeConv,
        Linear,
        NormActivation,
        Sequential,
        TensorSquare,
    )
    from latsym.nn._split import trivial_irrep

    if lattice is not None and channel_dim != 1:
        raise ValueError("lattice fields carry their channels on axis 1: use channel_dim=1 with a lattice")

    trivial = trivial_irrep(group)
    current = draw(irreps(group, max_mul=max_mul))
    layers = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(draw(st.integers(0, 2**32 - 1)))
        for _ in range(draw(st.integers(*depth))):
            gated = draw(irreps(group, max_mul=max_mul, max_terms=3))
            scalars = Irreps([(draw(st.integers(1, max_mul)), trivial)], group)
            gates = Irreps([(gated.num_irreps, trivial)], group)
            if lattice is None:
                layers.append(Linear(current, scalars + gates + gated, bias=True, channel_dim=channel_dim,
                                     allow_zero=True))  # the first input may share no irrep
            else:
                layers.append(LatticeConv(lattice, current, scalars + gates + gated, radius, group=group,
                                          centre=centre, bias=True))
            layers.append(Gate(scalars, torch.tanh, gates, torch.sigmoid, gated, channel_dim=channel_dim))
            current = layers[-1].irreps_out
            choice = draw(st.sampled_from(["none", "norm", "square", "batchnorm"]))
            if choice == "norm":
                layers.append(NormActivation(current, torch.sigmoid, bias=True, channel_dim=channel_dim))
            elif choice == "batchnorm":
                bn = BatchNorm(current, channel_dim=channel_dim).eval()
                with torch.no_grad():
                    bn.running_mean.uniform_(-1.0, 1.0)
                    bn.running_var.uniform_(0.5, 2.0)
                    bn.weight.uniform_(0.5, 2.0)
                    bn.bias.uniform_(-1.0, 1.0)
                layers.append(bn)
            elif choice == "square":
                out = draw(irreps(group, max_mul=max_mul))
                layers.append(TensorSquare(current, out, channel_dim=channel_dim))
                current = out
    return Sequential(*layers).to(torch.float64)
