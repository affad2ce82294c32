"""``assert_equivariant`` and ``equivariance_errors``: an exhaustive symmetry check over every group
element and lattice translations, and the per-operation report behind it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from latsym._errors import LatsymError
from latsym.group import SO3, U1, CompactGroup, Group, LieProduct
from latsym.lattice import PeriodicLattice
from latsym.nn._irreps import Irreps, apply_matrix
from latsym.nn._split import finite_part, lie_factors

#: Default number of random draws of the Lie factors (:func:`equivariance_errors`'s ``samples``).
LIE_SAMPLES = 8

#: Default tolerance on the scaled error (see :func:`assert_equivariant`) per dtype.
TOLERANCES = {torch.float64: 1e-10, torch.float32: 1e-5, torch.float16: 1e-2, torch.bfloat16: 5e-2}


@dataclass(frozen=True)
class EquivarianceReport:
    """What :func:`equivariance_errors` measured: the scaled error of every symmetry operation.

    Attributes:
        errors: ``{operation name: scaled error}``, every group element (by its name in the group)
            then every lattice translation checked, in that order.
        tolerance: the tolerance the errors are compared with.
        group: the group checked (``None`` when not recorded).
        dtype: the dtype of the inputs (``None`` when not recorded).
    """

    errors: dict[str, float]
    tolerance: float
    group: Group | None = None
    dtype: torch.dtype | None = None

    @property
    def worst(self) -> tuple[str, float]:
        """``(name, error)`` of the operation with the largest error."""
        name = max(self.errors, key=lambda n: _badness(self.errors[n]))
        return name, self.errors[name]

    @property
    def failures(self) -> dict[str, float]:
        """The operations whose error exceeds the tolerance (or is NaN), worst first."""
        bad = [(name, e) for name, e in self.errors.items() if not e <= self.tolerance]
        return dict(sorted(bad, key=lambda item: -_badness(item[1])))

    @property
    def passed(self) -> bool:
        """Whether every operation is within the tolerance."""
        return not self.failures

    def __str__(self) -> str:
        width = max(map(len, self.errors), default=0)
        rows = [f"  {name:<{width}}  {e:.3g}{'  FAIL' if not e <= self.tolerance else ''}"
                for name, e in self.errors.items()]
        return "\n".join([f"scaled error per operation (tolerance {self.tolerance:.3g}):", *rows])


def _badness(error: float) -> float:
    """The error, with NaN (a non-finite output) counted as the worst."""
    return np.inf if np.isnan(error) else error


class EquivarianceError(LatsymError, AssertionError):
    """:func:`assert_equivariant` found an operation over the tolerance.

    Attributes:
        report: the :class:`EquivarianceReport` with every operation's error (``report.failures``
            lists the failing ones, worst first).
    """

    __module__ = "latsym.testing"  # its public home, in tracebacks and pickles

    def __init__(self, message: str, report: EquivarianceReport):
        super().__init__(message)
        self.report = report

    def __reduce__(self):
        return (type(self), (str(self), self.report))


def equivariance_errors(
    module_or_fn: Callable,
    irreps_in=None,
    irreps_out=None,
    *,
    group: Group | None = None,
    lattice=None,
    centre=None,
    translations="generators",
    dtype: torch.dtype = torch.float64,
    atol: float | None = None,
    channel_dim: int | None = 1,
    batch: int = 2,
    backend: str = "torch",
    seed: int = 0,
    device: torch.device | str | None = None,
    samples: int = LIE_SAMPLES,
    all_combinations: bool = False,
) -> EquivarianceReport:
    """Measure ``f(g·x) - g·f(x)`` for **every** element ``g`` of the group and for lattice
    translations, without asserting anything: the per-operation report that
    :func:`assert_equivariant` checks.

    For a group with compact Lie factors (``G * SO3() * TimeReversal()``, ``G * U1()``) "every
    element" means: every element of the finite factors (the Lie components at the identity);
    the Lie factors' deterministic ``test_elements()`` (axis rotations and generic rotations about
    generic axes) and ``samples`` Haar-random draws ``sample_elements(samples, seed)`` (the finite
    components at the identity); and mixed elements, each non-identity finite element combined
    with one of those Lie elements in turn (``all_combinations=True``: with every one of them).
    Since ``(g, R) = (g, 1)·(1, R)``, equivariance under the first two sets implies it under the
    whole group; the mixed ones check it directly. Operations are named by their components,
    e.g. ``"C6 · R(axis=[0.27, 0.53, 0.80], angle=0.7) · T"``.

    Args:
        module_or_fn: a module or callable. Its irreps are read from ``module.irreps_in`` and
            ``module.irreps_out`` when not given; a tuple of irreps means several inputs (or outputs).
        irreps_in, irreps_out: :class:`~latsym.nn.Irreps` (or anything with ``group``, ``dim`` and
            ``representation_matrices()``, such as :class:`~latsym.nn.RepType`), or strings parsed
            with ``group``.
        group: the group, when the irreps are strings.
        lattice: ``None`` for per-site maps (inputs ``(batch, dim)``), or a
            :class:`~latsym.lattice.PeriodicLattice` for fields ``(batch, channels, *lattice_shape)``
            (defaults to ``module.lattice`` if present). A group element acts on a lattice field by
            ``(g·x)(g r) = D(g) x(r)``, sites moved by ``lattice.site_permutations``; for ``G * K``
            the internal factor moves no sites. An output without the lattice axes, ``(batch,
            channels)`` (e.g. pooled over the sites: a total energy), transforms by ``D(g)`` alone
            and must not change under translations.
        centre: the Cartesian point about which the group moves the sites (``None``: about site 0);
            defaults to ``module.centre`` if present (a :class:`~latsym.nn.LatticeConv` built with
            ``centre``, e.g. kagome's 6mm about the centre of a hexagon).
        translations: ``"generators"`` (one step along each lattice axis and their sum), ``"all"``,
            ``None``, or a sequence of integer vectors.
        dtype: the dtype of the inputs; the tolerance follows it (:data:`TOLERANCES`).
        atol: tolerance on the scaled error ``max|f(g·x) - g·f(x)| / max(1, max|f(x)|)``.
        channel_dim: the axis of the channels in inputs and outputs; ``None`` when the field has no
            channel axis (one-dimensional irreps only, e.g. a force ``(batch, L, L)`` on an
            ``"A1:odd"`` field).
        batch: number of random samples.
        backend: ``"torch"`` or ``"numpy"`` (the callable takes and returns numpy arrays).
        seed: seed of the random inputs.
        device: where the inputs live (e.g. ``"cuda"`` for a module on a GPU); default CPU.
        samples: number of random draws of the Lie factors (groups with a Lie factor only).
        all_combinations: check every finite element times every Lie element (groups with a Lie
            factor only; slower).

    Returns:
        The :class:`EquivarianceReport`: the scaled error of every operation and the tolerance.

    >>> from latsym.group import point_group
    >>> from latsym.nn import Irreps
    >>> irreps = Irreps("A1 + E", point_group("4mm", dim=2))
    >>> report = equivariance_errors(lambda x: x.flip(1), irreps, irreps)
    >>> report.passed, report.worst[0], list(report.failures)[:2]
    (False, 'C2', ['C2', 'σy'])
    """
    __tracebackhide__ = True
    irreps_in = _resolve(irreps_in, getattr(module_or_fn, "irreps_in", None), group, "irreps_in")
    irreps_out = _resolve(irreps_out, getattr(module_or_fn, "irreps_out", None), group, "irreps_out")
    lattice = getattr(module_or_fn, "lattice", None) if lattice is None else lattice
    centre = getattr(module_or_fn, "centre", None) if centre is None else centre
    if backend not in ("torch", "numpy"):
        raise ValueError(f"backend must be 'torch' or 'numpy', not {backend!r}")
    _check_irreps(irreps_in, irreps_out, channel_dim)
    if lattice is not None and channel_dim not in (1, None):
        raise ValueError("lattice fields are (batch, channels, *lattice_shape): use channel_dim=1 (or None)")
    group = irreps_in[0].group
    sites = _Sites.build(lattice, group, translations, centre)
    elements = _elements(group, samples, seed, all_combinations)
    gen = torch.Generator().manual_seed(seed)
    xs = [_random_field(ir, batch, sites.shape, channel_dim, gen).to(dtype=dtype, device=device)
          for ir in irreps_in]
    call = _Caller(module_or_fn, backend, len(irreps_out))
    with torch.no_grad():
        ys = call(xs)
        scale = max([1.0, *(float(y.abs().max()) for y in ys if y.numel())])
        errors: dict[str, float] = {}
        for name, op_in, op_out in sites.operations(elements, irreps_in, irreps_out, channel_dim, dtype,
                                                        xs[0].device):
            lhs = call([op(x) for op, x in zip(op_in, xs, strict=True)])
            rhs = [op(y.to(torch.float64)) for op, y in zip(op_out, ys, strict=True)]  # exact side in float64
            errors[name] = max(float((a.to(torch.float64) - b).abs().max()) if a.numel() else 0.0
                               for a, b in zip(lhs, rhs, strict=True)) / scale
    tolerance = TOLERANCES.get(dtype, 1e-5) if atol is None else atol
    return EquivarianceReport(errors, tolerance, irreps_in[0].group, dtype)


def assert_equivariant(module_or_fn: Callable, irreps_in=None, irreps_out=None,
                       **kwargs) -> EquivarianceReport:
    """Check ``f(g·x) == g·f(x)`` for **every** element ``g`` of the group and for lattice translations.

    Takes the arguments of :func:`equivariance_errors` (the irreps, ``group``, ``lattice``,
    ``centre``, ``translations``, ``dtype``, ``atol``, ``channel_dim``, ``batch``, ``backend``,
    ``seed``, ``device``) and raises when any operation's scaled error exceeds the tolerance. Its
    own frames are hidden from pytest's tracebacks, so a failure points at the calling test.

    Returns:
        The :class:`EquivarianceReport` (the check passed).

    Raises:
        EquivarianceError: an ``AssertionError`` naming the worst operation and its error; its
            ``report`` attribute holds every operation's error.

    >>> from latsym.group import point_group
    >>> from latsym.nn import Irreps
    >>> G = point_group("4mm", dim=2)
    >>> irreps = Irreps("A1 + E", G)
    >>> rep = assert_equivariant(lambda x: 2 * x, irreps, irreps)
    >>> assert_equivariant(lambda x: x.flip(1), irreps, irreps)
    Traceback (most recent call last):
    ...
    latsym.testing.EquivarianceError: not equivariant: worst operation C2 ...
    """
    __tracebackhide__ = True
    report = equivariance_errors(module_or_fn, irreps_in, irreps_out, **kwargs)
    if report.passed:
        return report
    name, err = report.worst
    raise EquivarianceError(
        f"not equivariant: worst operation {name} has error {err:.3g} > tolerance {report.tolerance:.3g} "
        f"({len(report.failures)} of {len(report.errors)} operations fail; dtype {report.dtype}, group "
        f"{report.group.name}){_dtype_hint(module_or_fn, report.dtype)}; the error's .report lists "
        "every operation",
        report,
    )


def _dtype_hint(module_or_fn, dtype: torch.dtype) -> str:
    """A hint when a module holds floating tensors of lower precision than the check's inputs."""
    if not isinstance(module_or_fn, torch.nn.Module):
        return ""
    dtypes = {p.dtype for p in module_or_fn.parameters()} | {b.dtype for b in module_or_fn.buffers()}
    low = sorted(str(d) for d in dtypes if d.is_floating_point and d.itemsize < dtype.itemsize)
    if not low:
        return ""
    return (f"; the module holds {', '.join(low)} tensors: convert it with .to({dtype}) or check in its "
            "own dtype")


def _check_irreps(irreps_in: tuple, irreps_out: tuple, channel_dim: int | None) -> None:
    group = irreps_in[0].group
    for ir in irreps_in + irreps_out:
        if ir.group != group:
            raise ValueError(
                f"all irreps must belong to one group: {group.name} vs {ir.group.name} (for a stack that "
                "starts with latsym.nn.Restrict, pass irreps_in=restrict.input_type: the check runs on "
                "the subgroup)"
            )
        if channel_dim is None and ir.dim != 1:
            raise ValueError(
                f"channel_dim=None (no channel axis) needs one-dimensional fields, got dim {ir.dim}"
            )


@dataclass
class _Caller:
    """Calls the function under test on a list of inputs and returns its outputs as a tuple."""

    fn: Callable
    backend: str
    n_out: int

    def __call__(self, inputs):
        __tracebackhide__ = True
        if self.backend == "numpy":
            out = self.fn(*(x.numpy() for x in inputs))
            out = tuple(torch.as_tensor(o) for o in out) if isinstance(out, tuple) else torch.as_tensor(out)
        else:
            out = self.fn(*inputs)
        out = out if isinstance(out, tuple) else (out,)
        if len(out) != self.n_out:
            raise ValueError(f"the function returned {len(out)} outputs, but {self.n_out} irreps_out")
        return out


def _resolve(given, declared, group, what) -> tuple:
    value = declared if given is None else given
    if value is None:
        raise TypeError(f"{what} is needed: pass it, or give the module an `{what}` attribute")
    items = tuple(value) if isinstance(value, list | tuple) else (value,)
    out = []
    for item in items:
        if isinstance(item, str):
            if group is None:
                raise TypeError(f"{what} given as the string {item!r} needs group=")
            item = Irreps(item, group)
        out.append(item)
    return tuple(out)


def _random_field(irreps, batch, lattice_shape, channel_dim, generator) -> torch.Tensor:
    """A float64 N(0, 1) field ``(batch, *lattice_shape)`` with the channel axis at ``channel_dim``."""
    if channel_dim is None:
        return irreps.randn(batch, *lattice_shape, generator=generator, dtype=torch.float64).squeeze(-1)
    shape = [batch, *lattice_shape]
    shape.insert(channel_dim if channel_dim >= 0 else len(shape) + 1 + channel_dim, -1)
    return irreps.randn(*shape, generator=generator, dtype=torch.float64)


@dataclass
class _Sites:
    """The spatial action: ``perms[g]`` (or ``None`` per-site) and translation permutations."""

    shape: tuple[int, ...]
    spatial: np.ndarray | None  # (|group|, n_sites): site index of g·r for every r; None without lattice
    shifts: list[tuple[str, np.ndarray]]

    @classmethod
    def build(cls, lattice, group, translations, centre=None) -> _Sites:
        if lattice is None:
            if translations not in ("generators", None):
                raise ValueError("translations need a lattice")
            if centre is not None:
                raise ValueError("a centre needs a lattice")
            return cls((), None, [])
        if not isinstance(lattice, PeriodicLattice):
            raise TypeError(
                f"lattice must be a latsym.lattice.PeriodicLattice, got {type(lattice).__name__}; e.g. "
                "PeriodicLattice(square(), (8, 8))"
            )
        spatial = finite_part(group)  # Lie factors (SO3, U1) move no sites
        if spatial is None or spatial.matrices is None:  # a purely internal group moves no sites
            order = 1 if spatial is None else spatial.order
            perms = np.broadcast_to(np.arange(lattice.n_sites), (order, lattice.n_sites))
        else:  # for G * K the matrices are G's, lifted: internal factors move no sites
            perms = lattice.site_permutations(spatial, centre=centre)
        return cls(lattice.lattice_shape, perms, _translations(lattice, translations))

    def operations(self, elements, irreps_in, irreps_out, channel_dim, dtype, device):
        finite = irreps_in[0].group.is_finite
        if finite:
            mats_in = [ir.representation_matrices(dtype=torch.float64, device=device) for ir in irreps_in]
            mats_out = [ir.representation_matrices(dtype=torch.float64, device=device) for ir in irreps_out]
        eye = [torch.eye(ir.dim, dtype=torch.float64, device=device) for ir in irreps_in + irreps_out]
        for name, element, site_index in elements:
            perm = None if self.spatial is None else self.spatial[site_index]
            if finite:
                m_in, m_out = [m[element] for m in mats_in], [m[element] for m in mats_out]
            else:
                m_in = [ir.matrix(element, dtype=torch.float64, device=device) for ir in irreps_in]
                m_out = [ir.matrix(element, dtype=torch.float64, device=device) for ir in irreps_out]
            yield (
                name,
                [self._op(m, perm, channel_dim, dtype) for m in m_in],
                [self._op(m, perm, channel_dim, torch.float64) for m in m_out],
            )
        n_in = len(irreps_in)
        for name, perm in self.shifts:
            yield (name,
                   [self._op(e, perm, channel_dim, dtype) for e in eye[:n_in]],
                   [self._op(e, perm, channel_dim, torch.float64) for e in eye[n_in:]])

    def _op(self, matrix, perm, channel_dim, dtype):
        matrix = matrix.to(dtype)
        shape = self.shape
        if perm is not None:
            inverse = torch.as_tensor(np.argsort(perm), device=matrix.device)

        pooled_ndim = 1 if channel_dim is None else 2  # (batch,) or (batch, channels): no site axes

        def act(x):
            y = apply_matrix(x.to(dtype), matrix, channel_dim)
            if perm is None or y.ndim == pooled_ndim:  # per-site maps, or an output pooled over sites
                return y
            flat = y.reshape(*y.shape[: y.ndim - len(shape)], -1)
            return flat[..., inverse].reshape(y.shape)

        return act


def _elements(group: CompactGroup, samples: int, seed: int, all_combinations: bool) -> list[tuple]:
    """``(name, element, index of its finite part)`` of every operation to check (see
    :func:`equivariance_errors`)."""
    if group.is_finite:
        return [(group.names[g], g, g) for g in range(group.order)]
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 0:
        raise ValueError(f"samples must be an integer >= 0, got {samples!r}")
    lie = lie_factors(group)
    lie_group = lie[0] if len(lie) == 1 else LieProduct(*lie)
    lie_elements = lie_group.test_elements()[1:] + lie_group.sample_elements(samples, seed)
    lie_elements = [x if len(lie) > 1 else (x,) for x in lie_elements]
    identity = tuple(f.identity for f in lie)
    F = finite_part(group)
    n_finite = 1 if F is None else F.order
    pairs = [(i, identity) for i in range(n_finite)] + [(0, x) for x in lie_elements]
    if all_combinations:
        pairs += [(i, x) for i in range(1, n_finite) for x in lie_elements]
    elif lie_elements:
        pairs += [(i, lie_elements[(i - 1) % len(lie_elements)]) for i in range(1, n_finite)]
    out, seen = [], set()
    for i, x in pairs:
        element = _assemble(group, F, i, x)
        name = _element_name(group, element)
        while name in seen:  # two draws that print alike
            name += "'"
        seen.add(name)
        out.append((name, element, i))
    return out


def _assemble(group: CompactGroup, F, finite_index: int, lie_components: tuple):
    """The element of ``group`` with finite part ``F``'s element ``finite_index`` and the given
    Lie components."""
    if not isinstance(group, LieProduct):
        return lie_components[0]
    n_finite = sum(f.is_finite for f in group.factors)
    finite = iter(F.split(finite_index) if n_finite > 1 else (finite_index,))
    lie = iter(lie_components)
    return tuple(next(finite) if f.is_finite else next(lie) for f in group.factors)


def _element_name(group: CompactGroup, element) -> str:
    """A readable name: the non-identity components joined by " · " ("E" for the identity)."""
    factors = group.factors if isinstance(group, LieProduct) else (group,)
    components = element if isinstance(group, LieProduct) else (element,)
    names = [_component_name(f, x) for f, x in zip(factors, components, strict=True)]
    return " · ".join(n for n in names if n) or "E"


def _component_name(factor, x) -> str:
    if factor.is_finite:
        return "" if x == 0 else factor.names[x]
    if isinstance(factor, SO3):
        axis, angle = SO3.axis_angle(x)
        if angle == 0.0:
            return ""
        return f"R(axis=[{', '.join(f'{v:.2f}' for v in axis)}], angle={angle:.4g})"
    if isinstance(factor, U1):
        return "" if x == 0.0 else f"{factor.name}(θ={x:.4g})"
    return repr(x)


def _translations(lattice: PeriodicLattice, translations) -> list[tuple[str, np.ndarray]]:
    d = lattice.dim
    if translations is None:
        return []
    if isinstance(translations, str) and translations == "generators":
        vectors = [tuple(int(i == k) for i in range(d)) for k in range(d)]
        vectors.append((1,) * d)
    elif isinstance(translations, str) and translations == "all":
        vectors = list(itertools.product(*(range(n) for n in lattice.shape)))[1:]
    elif isinstance(translations, str):
        raise ValueError(
            f"translations must be 'generators', 'all', None or integer vectors, not {translations!r}"
        )
    else:
        vectors = [tuple(int(t) for t in v) for v in translations]
        for v in vectors:
            if len(v) != d:
                raise ValueError(f"translation {v} does not match the lattice dimension {d}")
    return [(f"translation {v}", lattice.translation(np.array(v, dtype=np.int64))) for v in vectors]
