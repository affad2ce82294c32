"""Typed-field descriptors: ``Irreps`` (a sum of real irreps with multiplicities) and ``RepType``.

Channel layout. A field typed by ``Irreps("2xA1 + E", G)`` has ``dim == 4`` channels ordered as the
string reads: the two copies of A1, then the two components of E. Lattice fields are tensors
``(batch, channels, *lattice_shape)`` (channels on axis 1); per-site features may carry the channels
on any axis, which layers take as ``channel_dim`` (``-1`` for the e3nn-style ``(..., dim)``).
"""

from __future__ import annotations

import itertools
import numbers
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import NamedTuple

import numpy as np
import torch

from latsym._errors import format_bytes
from latsym.group import CompactGroup, Group, Irrep, LieIrrep, Representation, real_irreps
from latsym.nn._split import irrep_key, irrep_name, irrep_order, is_trivial, trivial_irrep

#: a term that starts like a number: (multiplicity, separator, label), each possibly malformed
#: The largest multiplicity of one term (and of ``irreps * n`` and ``RepType(mul=...)``): a million
#: copies of an irrep are already 4 MiB per site in float32, and a Linear map between two such fields
#: holds 10^12 weights.
MAX_MULTIPLICITY = 2**20

#: The largest block of dense float64 matrices built here (representation matrices, changes of basis).
_MAX_DENSE_BYTES = 2**33

_MUL_TERM = re.compile(r"([-+]?[\d.]*)\s*([xX×*]?)\s*(.*)", re.DOTALL)


@cache
def _irreps_of(group: Group) -> tuple[Irrep, ...]:
    return tuple(real_irreps(group))


def _lookup(group: CompactGroup, label: str) -> Irrep | LieIrrep:
    if not group.is_finite:
        return group.irrep(label)  # a GroupError (a ValueError) names the factors' labels
    for irrep in _irreps_of(group):
        if irrep.label == label:
            return irrep
    known = ", ".join(ir.label for ir in _irreps_of(group))
    raise ValueError(f"{group.name} has no irrep labelled {label!r}; its irreps are: {known}")


class MulIrrep(NamedTuple):
    """One term ``mul x irrep`` of an :class:`Irreps`."""

    mul: int
    irrep: Irrep | LieIrrep

    @property
    def dim(self) -> int:
        """Number of channels of the term, ``mul * irrep.dim``."""
        return self.mul * self.irrep.dim

    def __str__(self) -> str:
        return f"{self.mul}x{irrep_name(self.irrep)}"


class SortResult(NamedTuple):
    """Result of :meth:`Irreps.sort`: ``irreps[p[i]] == old[i]`` and ``irreps[i] == old[inv[i]]``."""

    irreps: Irreps
    p: tuple[int, ...]
    inv: tuple[int, ...]


class Irreps:
    """An immutable, hashable sum of real irreps with multiplicities, of a finite group or of a group
    with compact Lie factors (``G * SO3() * TimeReversal()``, ``G * U1()``).

    Args:
        irreps: a string such as ``"9xA1 + 3xA2 + 11xE"`` (``"E"`` means ``"1xE"``; for a product
            ``G * K`` the labels are the core's product labels such as ``"2xA1:odd + E:even"``, and
            for ``G * SO3() * TimeReversal()`` the factors' labels joined by ``:`` in factor order,
            e.g. ``"2xA1:1:odd"`` for two classical spins), another
            ``Irreps``, an :class:`~latsym.group.Irrep`, or a sequence of ``(mul, irrep)`` pairs where
            ``irrep`` is an ``Irrep`` or a label.
        group: the group whose irreps are meant; needed when ``irreps`` holds only labels.

    ``str(irreps)`` parses back to an equal object. Irreps are the core's
    (``latsym.group.real_irreps``), so every matrix here agrees with the group core.

    >>> from latsym.group import point_group
    >>> G = point_group("4mm", dim=2)
    >>> irreps = Irreps("2xA1 + E", G)
    >>> irreps.dim, irreps.num_irreps, str(irreps)
    (4, 3, '2xA1 + 1xE')
    >>> irreps.slices()
    [slice(0, 2, None), slice(2, 4, None)]
    >>> irreps.representation_matrices().shape
    torch.Size([8, 4, 4])

    With a Lie factor the group has infinitely many elements; :meth:`matrix` gives one element's:

    >>> from latsym.group import SO3, TimeReversal
    >>> spins = Irreps("2xA1:1:odd + E:0:even", G * SO3() * TimeReversal())
    >>> spins.dim, str(spins)
    (8, '2xA1:1:odd + 1xE:0:even')
    """

    __slots__ = ("_group", "_terms")

    def __init__(self, irreps: IrrepsLike = "", group: Group | None = None):
        if isinstance(irreps, Irreps):
            if group is not None and group != irreps.group:
                raise ValueError(f"these irreps belong to {irreps.group.name}, not to {group.name}")
            terms, group = irreps._terms, irreps.group
        elif isinstance(irreps, str):
            if group is None:
                raise TypeError(f"a string needs its group: Irreps({irreps!r}, group)")
            terms = tuple(_parse(irreps, group))
        elif isinstance(irreps, Irrep | LieIrrep):
            group = _same_group(group, irreps)
            terms = (MulIrrep(1, irreps),)
        elif isinstance(irreps, RepType):
            raise TypeError(
                "expected Irreps, not a RepType (this needs irreps): change to the irreps basis "
                "(x @ RepType.change_of_basis_inv.T on the channels) and pass RepType.irreps"
            )
        else:
            if not isinstance(irreps, Iterable):
                raise TypeError(
                    "Irreps takes a string, an Irrep, an Irreps or (mul, irrep) pairs, "
                    f"got {type(irreps).__name__}"
                )
            terms_list = []
            for item in irreps:
                if isinstance(item, Irrep | LieIrrep):
                    mul, ir = 1, item
                else:
                    try:
                        mul, ir = item
                    except (TypeError, ValueError):
                        raise TypeError(
                            f"expected (mul, irrep) pairs or irreps, got {item!r}"
                        ) from None
                if isinstance(ir, str):
                    if group is None:
                        raise TypeError("labels need their group: Irreps([(2, 'A1')], group)")
                    ir = _lookup(group, ir)
                elif isinstance(ir, Irrep | LieIrrep):
                    group = _same_group(group, ir)
                else:
                    raise TypeError(f"expected an Irrep or a label, got {ir!r}")
                terms_list.append(MulIrrep(_check_mul(mul, ir.dim), ir))
            if group is None:
                raise TypeError("an empty Irreps needs its group: Irreps([], group)")
            terms = tuple(terms_list)
        object.__setattr__(self, "_group", group)
        object.__setattr__(self, "_terms", terms)

    def __setattr__(self, name, value):
        raise AttributeError("Irreps are immutable")

    def __reduce__(self):  # pickle / deepcopy by content
        return (Irreps, (str(self), self._group))

    # -- basic structure ------------------------------------------------------------------------

    @property
    def group(self) -> Group:
        """The group (possibly a direct product ``G * K``) these irreps belong to."""
        return self._group

    @property
    def dim(self) -> int:
        """Number of channels, ``sum(mul * irrep.dim)``."""
        return sum(t.dim for t in self._terms)

    @property
    def num_irreps(self) -> int:
        """Number of irrep copies, ``sum(mul)``."""
        return sum(t.mul for t in self._terms)

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self) -> Iterator[MulIrrep]:
        return iter(self._terms)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Irreps(self._terms[i], self._group)
        return self._terms[i]

    def __contains__(self, irrep) -> bool:
        return self.count(irrep) > 0

    def count(self, irrep: Irrep | str) -> int:
        """Total multiplicity of ``irrep`` (an ``Irrep`` or a label)."""
        ir = _lookup(self._group, irrep) if isinstance(irrep, str) else irrep
        return sum(t.mul for t in self._terms if irrep_key(t.irrep) == irrep_key(ir))

    def slices(self) -> list[slice]:
        """The channel range of each term, in order."""
        out, start = [], 0
        for t in self._terms:
            out.append(slice(start, start + t.dim))
            start += t.dim
        return out

    def is_scalar(self) -> bool:
        """Whether every term is the trivial (invariant) irrep."""
        return all(is_trivial(t.irrep) for t in self._terms)

    # -- algebra --------------------------------------------------------------------------------

    def simplify(self) -> Irreps:
        """Merge consecutive equal irreps and drop zero multiplicities: ``A1 + A1 + 0xE`` → ``2xA1``."""
        out: list[MulIrrep] = []
        for mul, ir in self._terms:
            if mul == 0:
                continue
            if out and irrep_key(out[-1].irrep) == irrep_key(ir):
                out[-1] = MulIrrep(out[-1].mul + mul, ir)
            else:
                out.append(MulIrrep(mul, ir))
        return Irreps(out, self._group)

    def sort(self) -> SortResult:
        """Sort the terms by the core's irrep order (stable); returns ``(irreps, p, inv)``."""
        inv = tuple(sorted(range(len(self)), key=lambda i: irrep_order(self._terms[i].irrep)))
        p = [0] * len(inv)
        for new, old in enumerate(inv):
            p[old] = new
        return SortResult(Irreps([self._terms[i] for i in inv], self._group), tuple(p), inv)

    def regroup(self) -> Irreps:
        """``sort()`` then ``simplify()``: one term per distinct irrep."""
        return self.sort().irreps.simplify()

    def filter(self, keep: Callable[[MulIrrep], bool]) -> Irreps:
        """The terms for which ``keep(term)`` is true, e.g. ``irreps.filter(lambda t: t.irrep.dim == 1)``."""
        return Irreps([t for t in self._terms if keep(t)], self._group)

    def __add__(self, other: IrrepsLike) -> Irreps:
        other = Irreps(other, self._group)
        return Irreps(self._terms + other._terms, self._group)

    def __radd__(self, other: IrrepsLike) -> Irreps:
        return Irreps(other, self._group) + self

    def __mul__(self, n: int) -> Irreps:
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise TypeError(f"Irreps can be repeated a non-negative integer number of times, not {n!r}")
        _check_mul(n, self.dim)
        return Irreps(self._terms * n, self._group)

    __rmul__ = __mul__

    def __eq__(self, other) -> bool:
        if not isinstance(other, Irreps):
            return NotImplemented
        return self._group == other._group and self._key() == other._key()

    def __hash__(self) -> int:
        group = self._group.fingerprint if self._group.is_finite else self._group
        return hash((group, self._key()))

    def _key(self) -> tuple[tuple, ...]:
        return tuple((t.mul, irrep_key(t.irrep)) for t in self._terms)

    def __str__(self) -> str:
        return " + ".join(str(t) for t in self._terms)

    def __repr__(self) -> str:
        return f"Irreps({str(self)!r}, group={self._group.name})"

    # -- representation -------------------------------------------------------------------------

    def representation_matrices(self, *, dtype: torch.dtype | None = None,
                                device: torch.device | str | None = None) -> torch.Tensor:
        """Block-diagonal matrices of every group element, shape ``(|G|, dim, dim)``.

        ``x ↦ D[g] @ x`` is the action of element ``g`` on the channels (default dtype: torch's).
        """
        return torch.tensor(self._matrices(), dtype=dtype or torch.get_default_dtype(), device=device)

    def D(self, g: int, *, dtype: torch.dtype | None = None,
          device: torch.device | str | None = None) -> torch.Tensor:
        """The ``(dim, dim)`` matrix of group element ``g`` (an index ``0 .. |G|-1``); finite groups
        only (see :meth:`matrix`)."""
        self._need_finite("D(g)")
        try:
            g = operator.index(g)
        except TypeError:
            raise TypeError(f"an element index must be an integer, got {g!r}") from None
        if not 0 <= g < self._group.order:
            raise ValueError(
                f"element index {g} is out of range for {self._group.name} (order {self._group.order})"
            )
        return torch.tensor(self._matrices()[g], dtype=dtype or torch.get_default_dtype(),
                               device=device)

    def representation(self) -> Representation:
        """The core :class:`~latsym.group.Representation` with these block-diagonal matrices (finite
        groups only)."""
        return Representation(self._group, self._matrices())

    def matrix(self, element, *, dtype: torch.dtype | None = None,
               device: torch.device | str | None = None) -> torch.Tensor:
        """The block-diagonal ``(dim, dim)`` matrix of any group element: an index for a finite
        group, a rotation matrix for :class:`~latsym.group.SO3`, an angle for
        :class:`~latsym.group.U1`, a tuple ``(g, R, t)`` for ``G * SO3() * TimeReversal()``
        (one component per factor). ``x ↦ matrix @ x`` is the element's action on the channels.

        >>> import numpy as np
        >>> from latsym.group import SO3, TimeReversal, point_group
        >>> P = point_group("4mm", dim=2) * SO3() * TimeReversal()
        >>> spin = Irreps("A1:1:odd + A1:0:even", P)  # a classical spin and an invariant scalar
        >>> R = SO3.rotation([0, 0, 1], np.pi / 2)
        >>> spin.matrix((0, R, 1), dtype=torch.float64).round(decimals=12) + 0.0  # R, then T
        tensor([[ 0.,  1.,  0.,  0.],
                [-1.,  0.,  0.,  0.],
                [ 0.,  0., -1.,  0.],
                [ 0.,  0.,  0.,  1.]], dtype=torch.float64)
        """
        if self._group.is_finite:
            return self.D(self._group.check_element(element), dtype=dtype, device=device)
        element = self._group.check_element(element)
        _check_dense(1, self.dim, f"the matrix of a {self.dim}-channel field of {self._group.name}")
        out = np.zeros((self.dim, self.dim))
        start = 0
        for mul, irrep in self._terms:
            block = irrep.matrix(element)
            for _ in range(mul):
                out[start:start + irrep.dim, start:start + irrep.dim] = block
                start += irrep.dim
        return torch.tensor(out, dtype=dtype or torch.get_default_dtype(), device=device)

    def _need_finite(self, what: str) -> None:
        if not self._group.is_finite:
            raise TypeError(
                f"{what} lists matrices by element index, which only a finite group has; "
                f"{self._group.name} has a Lie factor: use irreps.matrix(element) for one element"
            )

    def _matrices(self) -> np.ndarray:
        self._need_finite("representation matrices")
        return _block_diagonal(self._group, self._key())

    def randn(self, *size: int, normalization: str = "component", dtype: torch.dtype | None = None,
              device: torch.device | str | None = None, generator: torch.Generator | None = None,
              requires_grad: bool = False) -> torch.Tensor:
        """A random field of this type.

        ``size`` is the shape with one ``-1`` marking the channel axis, e.g. ``irreps.randn(2, -1, 8, 8)``
        for a ``(2, dim, 8, 8)`` lattice field; without a ``-1`` the channels go last
        (``irreps.randn(5)`` has shape ``(5, dim)``). ``normalization="component"`` draws every channel
        from N(0, 1); ``"norm"`` scales each irrep copy to unit expected norm.
        """
        if normalization not in ("component", "norm"):
            raise ValueError(f"normalization must be 'component' or 'norm', not {normalization!r}")
        size = tuple(int(s) for s in size)
        if size.count(-1) > 1:
            raise ValueError(f"at most one -1 (the channel axis) in the size, got {size}")
        if -1 not in size:
            size = (*size, -1)
        axis = size.index(-1)
        shape = tuple(self.dim if s == -1 else s for s in size)
        x = torch.randn(shape, dtype=dtype, device=device, generator=generator)
        if normalization == "norm":
            scale = torch.cat([torch.full((t.dim,), t.irrep.dim ** -0.5) for t in self._terms] or
                              [torch.zeros(0)]).to(x)
            x = x * scale.reshape((-1,) + (1,) * (len(shape) - axis - 1))
        return x.requires_grad_(requires_grad)


class RepType:
    """A field typed by an arbitrary orthogonal representation, e.g. the permutation representation of
    a stencil (the 9 velocities of D2Q9), with ``mul`` copies laid out copy after copy.

    Layers work in the irrep basis of its decomposition: ``irreps`` and the orthogonal
    ``change_of_basis`` Q (``dim × dim``, ``x = Q @ x_irreps``) come from the core's
    ``Representation.decompose()``. Pointwise activations accept a ``RepType`` whose matrices are
    permutations.

    >>> from latsym.group import point_group, permutation_representation
    >>> G = point_group("4mm", dim=2)
    >>> d2q9 = [[x, y] for x in (-1, 0, 1) for y in (-1, 0, 1)]
    >>> field = RepType(permutation_representation(G, points=d2q9), mul=2)
    >>> field.dim, str(field.irreps.regroup()), field.is_permutation
    (18, '6xA1 + 2xB1 + 2xB2 + 4xE', True)
    """

    __slots__ = ("_irreps", "_q", "_q_inv", "mul", "representation")

    def __init__(self, representation: Representation, mul: int = 1):
        if not isinstance(representation, Representation):
            raise TypeError(
                f"RepType needs a latsym.group.Representation, got {type(representation).__name__}"
            )
        if not representation.is_orthogonal:
            raise ValueError("RepType needs an orthogonal representation (orthogonalise it first)")
        mul = _check_mul(mul, representation.dim)
        _check_dense(2, mul * representation.dim, f"the changes of basis of RepType(mul={mul})")
        dec = representation.decompose()
        one = Irreps([(m, irrep) for irrep, m in dec.terms], representation.group)
        object.__setattr__(self, "representation", representation)
        object.__setattr__(self, "mul", mul)
        object.__setattr__(self, "_irreps", one * mul)
        object.__setattr__(self, "_q", np.kron(np.eye(mul), dec.change_of_basis))
        object.__setattr__(self, "_q_inv", np.kron(np.eye(mul), dec.change_of_basis_inv))

    def __setattr__(self, name, value):
        raise AttributeError("RepType is immutable")

    def __reduce__(self):  # pickle / deepcopy by content
        return (RepType, (self.representation, self.mul))

    @property
    def group(self) -> Group:
        return self.representation.group

    @property
    def dim(self) -> int:
        """Number of channels, ``mul * representation.dim``."""
        return self.mul * self.representation.dim

    @property
    def irreps(self) -> Irreps:
        """The irreps of the decomposition (one copy of ρ's decomposition per ``mul``)."""
        return self._irreps

    @property
    def change_of_basis(self) -> np.ndarray:
        """Q, ``(dim, dim)``: ``D(g) = Q @ irreps.D(g) @ Q⁻¹``."""
        return self._q

    @property
    def change_of_basis_inv(self) -> np.ndarray:
        """Q⁻¹, ``(dim, dim)``."""
        return self._q_inv

    @property
    def is_permutation(self) -> bool:
        """Whether every matrix permutes the channels (then any pointwise function is equivariant)."""
        m = self.representation.matrices
        return bool(np.all((m == 0) | (m == 1)) and np.all(m.sum(axis=1) == 1))

    def representation_matrices(self, *, dtype: torch.dtype | None = None,
                                device: torch.device | str | None = None) -> torch.Tensor:
        """``(|G|, dim, dim)``: ``mul`` diagonal copies of the representation's matrices."""
        _check_dense(self.group.order, self.dim, f"the representation matrices of {self!r}")
        mats = np.einsum("ij,gkl->gikjl", np.eye(self.mul), self.representation.matrices)
        mats = mats.reshape(self.group.order, self.dim, self.dim)
        return torch.tensor(mats, dtype=dtype or torch.get_default_dtype(), device=device)

    def randn(self, *size: int, **kwargs) -> torch.Tensor:
        """A random N(0, 1) field; ``size`` as in :meth:`Irreps.randn`."""
        return self._irreps.randn(*size, **kwargs)

    def __eq__(self, other) -> bool:
        if not isinstance(other, RepType):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self):
        return (self.group.fingerprint, self.mul, np.round(self.representation.matrices, 10).tobytes())

    def __repr__(self) -> str:
        return f"RepType({self.representation.name!r}, mul={self.mul}, irreps={str(self._irreps)!r})"


@cache
def _block_diagonal(group: Group, key: tuple[tuple[int, int], ...]) -> np.ndarray:
    irreps = _irreps_of(group)
    dim = sum(mul * irreps[i].dim for mul, i in key)
    _check_dense(group.order, dim, f"the representation matrices of a {dim}-channel field of {group.name}")
    out = np.zeros((group.order, dim, dim))
    start = 0
    for mul, i in key:
        d = irreps[i].dim
        for _ in range(mul):
            out[:, start:start + d, start:start + d] = irreps[i].matrices
            start += d
    out.setflags(write=False)
    return out


IrrepsLike = Irreps | str | Irrep | Iterable


def _check_mul(mul, dim: int = 1) -> int:
    """A multiplicity of copies of ``dim`` channels each, checked against :data:`MAX_MULTIPLICITY`."""
    if isinstance(mul, bool) or not isinstance(mul, int | np.integer) or mul < 0:
        raise ValueError(f"a multiplicity must be a non-negative integer, got {mul!r}")
    if mul > MAX_MULTIPLICITY:
        channels = int(mul) * dim
        raise ValueError(
            f"multiplicity {mul} is over the limit MAX_MULTIPLICITY={MAX_MULTIPLICITY} "
            f"(latsym.nn.MAX_MULTIPLICITY): {channels:.3g} channels take {format_bytes(4 * channels)} per "
            f"site in float32, and a Linear map between two such fields would hold "
            f"{float(mul) ** 2:.3g} weights ({format_bytes(4 * float(mul) ** 2)}); use fewer copies"
        )
    return int(mul)


def _check_dense(n_matrices: int, dim: int, what: str) -> None:
    """Refuse to build ``n_matrices`` dense ``(dim, dim)`` float64 matrices over :data:`_MAX_DENSE_BYTES`."""
    size = 8.0 * n_matrices * dim * dim
    if size > _MAX_DENSE_BYTES:
        raise ValueError(
            f"{what}: {n_matrices} dense {dim}x{dim} matrices would take {format_bytes(size)} (the limit "
            f"is {format_bytes(_MAX_DENSE_BYTES)}); equivariance does not depend on the multiplicities, "
            "so check a copy of the layer built with fewer copies of each irrep"
        )


def _same_group(group: Group | None, irrep: Irrep) -> Group:
    if group is not None and irrep.group != group:
        raise ValueError(f"irrep {irrep.label} belongs to {irrep.group.name}, not to {group.name}")
    return irrep.group


def _parse(text: str, group: Group) -> Iterator[MulIrrep]:
    if not text.strip():
        return
    for term in text.split("+"):
        yield _parse_term(term.strip(), text, group)


def _parse_term(term: str, text: str, group: Group) -> MulIrrep:
    """One term ``MULxLABEL`` or ``LABEL``; a term that starts like a number is a multiplicity,
    except a term without an ``x`` of a group whose labels may start with a digit (``"1"`` of SO3)."""
    if not group.is_finite and re.fullmatch(r"[^\sxX×*]+", term):
        return MulIrrep(1, _lookup(group, term))
    if not term[:1] or term[0] not in "+-.0123456789":  # no labels start like a number
        if not re.fullmatch(r"\S+", term):
            raise ValueError(
                f"cannot parse {term!r} in {text!r}: write terms as 'MULxLABEL' joined by '+', "
                "e.g. '2xA1 + E'"
            )
        return MulIrrep(1, _lookup(group, term))
    mul, sep, label = _MUL_TERM.fullmatch(term).groups()
    problem = None
    if not mul.isdigit():
        problem = f"{mul!r} is not a non-negative integer"
    elif sep != "x":
        problem = "write a lowercase x between the multiplicity and the label" if sep else "no x follows it"
    elif not label:
        problem = "no irrep label follows it"
    if problem is not None:
        example = _example_label(group, label)
        where = "" if term == text.strip() else f" (in {text!r})"
        raise ValueError(
            f"bad multiplicity in {term!r}{where}: {problem}; a multiplicity must be a "
            f"non-negative integer written before the label with a lowercase x, like 2x{example}"
        )
    if not re.fullmatch(r"\S+", label):
        raise ValueError(
            f"cannot parse {term!r} in {text!r}: write terms as 'MULxLABEL' joined by '+', e.g. '2xA1 + E'"
        )
    irrep = _lookup(group, label)
    return MulIrrep(_check_mul(int(mul), irrep.dim), irrep)


def _example_label(group: CompactGroup, label: str) -> str:
    """``label`` if it names an irrep of ``group``, else the trivial irrep's label (for messages)."""
    try:
        return irrep_name(_lookup(group, label))
    except ValueError:
        return irrep_name(trivial_irrep(group))


def channels_last(x: torch.Tensor, channel_dim: int | None) -> torch.Tensor:
    """Move the channel axis of ``x`` last (``channel_dim=None``: add a channel axis of size 1)."""
    return x.unsqueeze(-1) if channel_dim is None else x.movedim(channel_dim, -1)


def channels_back(y: torch.Tensor, channel_dim: int | None) -> torch.Tensor:
    """Inverse of :func:`channels_last`."""
    return y.squeeze(-1) if channel_dim is None else y.movedim(-1, channel_dim)


def apply_matrix(x: torch.Tensor, matrix: torch.Tensor, channel_dim: int | None = 1) -> torch.Tensor:
    """``matrix @ x`` on the channel axis of ``x``; ``matrix`` is ``(dim_out, dim_in)``."""
    return channels_back(channels_last(x, channel_dim) @ matrix.T, channel_dim)


def check_input(x: torch.Tensor, who: str, module: torch.nn.Module | None = None) -> None:
    """Raise unless ``x`` holds real floating-point values on the device of ``module``'s tensors.

    The layers' shared input check: a meta tensor (no values) given to a module that holds real
    tensors, a module and an input on different devices, and integer, boolean or complex fields get
    an error that names the fix. A module moved to the meta device takes meta inputs (shape inference).
    """
    device = _device_of(module)
    if device is not None and x.device != device:
        if x.device.type == "meta":
            raise ValueError(
                f"{who} got a meta tensor, which has shape {tuple(x.shape)} but no values, while the "
                f"module's tensors are on {device}: pass data (e.g. torch.randn(..., device='{device}')), "
                "or move the module with module.to('meta') to infer shapes only"
            )
        raise ValueError(
            f"{who} got an input on {x.device} but the module's tensors are on {device}: move one of "
            f"them, module.to({str(x.device)!r}) or x.to({str(device)!r})"
        )
    if x.is_complex():
        raise TypeError(
            f"{who} takes a real field, got {x.dtype}: latsym's irreps are real; pass the real and "
            "imaginary parts as channels of their own (torch.view_as_real) or as two fields"
        )
    if not x.is_floating_point():
        raise TypeError(
            f"{who} takes a floating-point field, got {x.dtype}; convert it first, e.g. x.to(torch.float32) "
            "(or to the module's dtype)"
        )


def _device_of(module: torch.nn.Module | None) -> torch.device | None:
    """The device of ``module``'s first parameter or buffer (``None``: no module, or no tensors)."""
    if module is None:
        return None
    for tensor in itertools.chain(module.parameters(), module.buffers()):
        return tensor.device
    return None


def is_real_number(value) -> bool:
    """Whether ``value`` is a real number (numpy scalars included, booleans not): for argument checks."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class ExactConstants(torch.nn.Module):
    """Base of layers whose floating-point buffers are float64 constants (changes of basis,
    projections, Clebsch–Gordan bases, normalisations), cast at use.

    ``module.to(dtype)`` converts those buffers like any other; this class keeps a float64 copy
    and recasts it on every later conversion, so that a float64 → float32 → float64 round trip
    restores the constants exactly (only the learnt weights keep their float32 rounding, which
    does not affect equivariance).
    """

    def _apply(self, fn, recurse=True):
        if "_exact" not in self.__dict__:  # the first conversion: the buffers are still the originals
            self._exact = {name: b.detach().clone() for name, b in self._buffers.items()
                           if b is not None and b.dtype == torch.float64}
        dtypes = {name: self._buffers[name].dtype for name in self._exact}
        super()._apply(fn, recurse)
        for name, exact in self._exact.items():
            buf = self._buffers[name]
            if buf.dtype != dtypes[name]:  # a dtype conversion: recast from the float64 original
                self._buffers[name] = exact.to(device=buf.device, dtype=buf.dtype)
        return self


def typed(field_type, group: Group | None = None):
    """Normalise a field-type argument of a layer: an :class:`Irreps`, a :class:`RepType`, or
    anything :class:`Irreps` parses (strings need ``group``)."""
    if isinstance(field_type, RepType):
        if group is not None and field_type.group != group:
            raise ValueError(f"this RepType belongs to {field_type.group.name}, not to {group.name}")
        return field_type
    return Irreps(field_type, group)
