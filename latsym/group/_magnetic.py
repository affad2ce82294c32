"""Magnetic point groups of the black-and-white kind: a point group G whose elements outside an
index-2 subgroup H carry time reversal T, M = H ∪ (G ∖ H)·T, a subgroup of the grey group G × 1'.

Symbols are Hermann–Mauguin symbols with primes (``"4'"``, ``"4'/m'm'm"``, ``"m'm2'"``; ASCII
``'`` or the Unicode prime ``′``): a primed symbol part is an element g of G that occurs only as
g·T in M. Each part stands for one element, its symmetry direction being the representative one
of its position in the symbol (the settings of :func:`~latsym.group.point_group`: z, then x, then
[110] in tetragonal groups; z, a, [120] in trigonal and hexagonal ones; z, [111], [110] in cubic
ones); a prime is a class function of G, so the representative fixes it for every equivalent
direction. Standard settings of trigonal groups drop the trailing ``1`` as the class symbol does
(``"3m'"`` for 3m1, ``"32'"`` for 321); other settings keep their own symbol (``"31m'"``).

Index-2 subgroups of G are the kernels of its non-trivial one-dimensional real irreps (characters
±1), so the black-and-white groups of G are as many as those irreps.

Element names: a primed element is written with ``·T`` as in the direct product G × T
(``"C4z·T"``), so a magnetic group's names are those of its elements in
``point_group(...) * TimeReversal()``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

from latsym.group._catalogue import PointGroup, point_group, point_group_symbols
from latsym.group._group import Group, GroupError
from latsym.group._internal import TimeReversal
from latsym.group._irreps import real_irreps
from latsym.group._product import DirectProduct
from latsym.group._representation import _generating_set

_T_SUFFIX = "·T"


class MagneticPointGroup(Group):
    """A black-and-white magnetic point group. Get one from :func:`magnetic_point_group`.

    Element ``g`` is element ``g`` of ``point_group``, times T where ``primed[g]``: the table and
    matrices (the action on positions) are those of ``point_group``, the names carry ``·T``.

    Attributes:
        name: the magnetic Hermann–Mauguin symbol (``"4'/m'm'm"``).
        point_group: the point group G obtained by dropping T.
        primed: boolean array ``(order,)``, True for the elements carrying T (half of them).
        grey_group: the grey group G × T (``point_group * TimeReversal()``) containing this one.
        embedding: ``(order,)`` indices of this group's elements in ``grey_group``.
        dim: 2 or 3.

    >>> M = magnetic_point_group("4'")
    >>> M.names, M.order
    (['E', 'C4z·T', 'C2z', 'C4z^-1·T'], 4)
    >>> [M.grey_group.names[g] for g in M.embedding] == M.names
    True
    """

    def __init__(self, point_group: PointGroup, primed: np.ndarray, symbol: str):
        names = [n + _T_SUFFIX if p else n for n, p in zip(point_group.names, primed, strict=True)]
        super().__init__(point_group.table, matrices=point_group.matrices, names=names, name=symbol,
                         check=False)
        self.point_group = point_group
        self.primed = np.array(primed, dtype=bool)
        self.primed.setflags(write=False)
        self.dim = point_group.dim
        self.grey_group: DirectProduct = point_group * TimeReversal()
        self.embedding = np.arange(self.order) * 2 + self.primed  # (g, T^primed) in G × T
        self.embedding.setflags(write=False)

    def halving_subgroup(self) -> tuple[Group, np.ndarray]:
        """The unprimed elements, a subgroup H of index 2, as ``(H, embedding)`` like
        :meth:`Group.subgroup`.

        >>> H, emb = magnetic_point_group("4'/m'm'm").halving_subgroup()  # -42m
        >>> H.names
        ['E', 'C2z', 'C2x', 'C2y', 'S4z^-1', 'S4z', 'σ[110]', 'σ[1-10]']
        """
        return self.subgroup(np.flatnonzero(~self.primed), name=f"H({self.name})")

    def _identity(self) -> tuple:
        return ("magnetic", self.point_group._identity(), self.primed.tobytes())

    def __repr__(self) -> str:
        return f"MagneticPointGroup({self.name!r}, dim={self.dim}, order={self.order})"


def magnetic_point_group(spec: str | PointGroup, dim: int | None = None, *,
                         primed: Sequence[str] | None = None) -> MagneticPointGroup:
    """A black-and-white magnetic point group, by symbol or by its primed elements.

    Args:
        spec: a magnetic Hermann–Mauguin symbol (``"4'"``, ``"4'/m'm'm"``, ``"m-3m'"``; ``'`` or
            ``′``; spaces ignored), or a :class:`~latsym.group.PointGroup` G together with
            ``primed``.
        dim: 3 (default) or 2, for a symbol; with a point group, its own dimension.
        primed: with a point group: the names of *all* its elements that carry time reversal
            (``"C4"``, or spelled ``"C4·T"``, ``"C4'"``). They must be the complement of a
            subgroup of index 2.

    Returns:
        The group; its ``name`` is the magnetic symbol in the setting of G.

    Raises:
        GroupError: an unknown group, an unprimed or grey symbol, a prime on an element that no
            black-and-white group of G primes, primes or primed elements that match no subgroup of
            index 2 (the message lists those of G).
        TypeError: a symbol that is not a string, ``primed`` that is not a list of names.

    Ordinary (type-I) groups are :func:`~latsym.group.point_group` itself and grey groups
    G × 1' are ``point_group(...) * TimeReversal()``.

    >>> magnetic_point_group("m'm2'").names
    ['E', 'C2z·T', 'σx·T', 'σy']
    >>> G = point_group("4mm", dim=2)
    >>> magnetic_point_group(G, primed=["C4", "C4^-1", "σx", "σy"]).name
    "4'm'm"
    """
    if isinstance(spec, PointGroup):
        if dim is not None and dim != spec.dim:
            raise GroupError(f"dim={dim} does not match the {spec.dim}D point group {spec.name}")
        return _from_primed(spec, primed)
    if primed is not None:
        raise GroupError("primed=[...] goes with a point group, magnetic_point_group(point_group(...), "
                         "primed=[...]); a symbol carries its primes itself, e.g. \"4'mm'\"")
    if not isinstance(spec, str):
        raise TypeError(f"a magnetic point group is given by a symbol (str) or a PointGroup with primed=, "
                        f"got {type(spec).__name__}")
    return _from_symbol(spec, 3 if dim is None else dim)


def magnetic_point_groups(dim: int = 3) -> tuple[str, ...]:
    """The black-and-white magnetic point groups, one symbol per type (58 in 3D, 11 in 2D), in
    the catalogue's order of the point groups.

    Two black-and-white groups of G are the same type when an orthogonal change of coordinates
    maps one onto the other (as 4'm'm and 4'mm', rotated by 45°); one spelling is listed, the
    one whose primes come first, and :func:`magnetic_point_group` accepts every spelling.

    >>> magnetic_point_groups(dim=2)
    ("2'", "m'", "2'm'm", "2m'm'", "4'", "4'm'm", "4m'm'", "3m'", "6'", "6'm'm", "6m'm'")
    >>> len(magnetic_point_groups())
    58
    """
    if dim not in (2, 3):
        raise GroupError(f"magnetic point groups exist here for dim=2 and dim=3, got dim={dim!r}")
    return _catalogue(dim)


# -- by symbol ----------------------------------------------------------------------------------

#: one position of a symbol: a rotation or rotoinversion (or a mirror), optionally "/m"; primes
_POSITION = re.compile(r"(-?[1-6]|m)('*)(?:/m('*))?")


def _tokens(symbol: str) -> list[list[tuple[str, bool]]] | None:
    """``"4'/mm'm"`` → ``[[("4", True), ("m", False)], [("m", True)], [("m", False)]]``; None if
    the text is not a sequence of symbol positions. Double primes raise."""
    out, pos = [], 0
    while pos < len(symbol):
        match = _POSITION.match(symbol, pos)
        if match is None:
            return None
        if len(match.group(2)) > 1 or len(match.group(3) or "") > 1:
            raise GroupError(f"{symbol!r} has a double prime; each part of a magnetic symbol carries one "
                             "prime or none")
        parts = [(match.group(1), match.group(2) == "'")]
        if match.group(3) is not None:
            parts.append(("m", match.group(3) == "'"))
        out.append(parts)
        pos = match.end()
    return out


def _from_symbol(symbol: str, dim: int) -> MagneticPointGroup:
    if dim not in (2, 3):
        raise GroupError(f"magnetic point groups exist here for dim=2 and dim=3, got dim={dim!r}")
    key = "".join(symbol.split()).replace("−", "-").replace("′", "'")
    tokens = _tokens(key)
    if tokens is None or not tokens:
        raise GroupError(f"{symbol!r} is not a magnetic point-group symbol: write a Hermann–Mauguin symbol "
                         "with primes on the parts that carry time reversal, e.g. \"4'mm'\" (a "
                         "Schoenflies symbol takes magnetic_point_group(point_group(...), primed=[...]))")
    flags = [p for position in tokens for _, p in position]
    plain = key.replace("'", "")
    if not any(flags):
        raise GroupError(f"{symbol!r} has no primes: it is the ordinary point group "
                         f"point_group({plain!r}{_dim_arg(dim)}); a black-and-white group primes some parts, "
                         "e.g. \"4'\"")
    if any(letter == "1" and p for position in tokens for letter, p in position):
        base = "".join("" if parts == [("1", True)] else _text(parts) for parts in tokens).replace("'", "")
        base = base or "1"
        raise GroupError(f"{symbol!r} primes 1, time reversal itself: that is the grey group, "
                         f"point_group({base!r}{_dim_arg(dim)}) * TimeReversal()")
    try:
        G = point_group(plain, dim)
    except GroupError:
        raise GroupError(f"{symbol!r} is not a {dim}D magnetic point group: without its primes, {plain!r} is "
                         f"not a {dim}D point-group symbol; magnetic_point_groups(dim={dim}) lists the "
                         "black-and-white groups, point_group_symbols() the point groups") from None
    parts = _parts(G)
    tokens = tokens[: len(parts)] if all(t == [("1", False)] for t in tokens[len(parts):]) else tokens
    if [len(t) for t in tokens] != [len(p) for p in parts]:
        raise GroupError(f"{symbol!r} does not follow the symbol {_symbol(G, None)!r} of {G.name}")
    wanted = [(letter, g, p) for position, ps in zip(tokens, parts, strict=True)
              for (_, p), (letter, g) in zip(position, ps, strict=True)]
    for letter, g, p in wanted:
        if p and not any(phi[g] for phi in _halvings(G)):
            raise GroupError(_unprimeable(symbol, G, letter, g))
    for phi in _halvings(G):
        if all(phi[g] == p for _, g, p in wanted):
            return MagneticPointGroup(G, phi, _symbol(G, phi))
    raise GroupError(f"the primes of {symbol!r} match no black-and-white group of {_symbol(G, None)}: "
                     f"its black-and-white groups are {', '.join(_symbol(G, phi) for phi in _halvings(G))}")


def _dim_arg(dim: int) -> str:
    return "" if dim == 3 else f", dim={dim}"


def _unprimeable(symbol: str, G: PointGroup, letter: str, g: int) -> str:
    """Why a symbol part cannot be primed: G has no subgroup of index 2, or (the only other case
    among the symbol parts of the catalogue) the element has odd order."""
    plain, k = _symbol(G, None), G.element_orders[g]
    if not _halvings(G):
        return (f"the prime on {letter} in {symbol!r} cannot be: {plain} has no subgroup of index 2, "
                "hence no black-and-white groups")
    options = ", ".join(_symbol(G, phi) for phi in _halvings(G))
    return (f"the prime on {letter} in {symbol!r} cannot be: {G.names[g]} has odd order {k}, so "
            f"({letter}')^{k} would be T itself; the black-and-white groups of {plain} are {options}")


def _text(parts: list[tuple[str, bool]]) -> str:
    return "/".join(letter + ("'" if p else "") for letter, p in parts)


# -- by primed elements -------------------------------------------------------------------------


def _from_primed(G: PointGroup, primed) -> MagneticPointGroup:
    if primed is None:
        raise GroupError(f"say which elements of {G.name} carry time reversal: "
                         "magnetic_point_group(G, primed=[names of all of them])")
    if isinstance(primed, str) or not all(isinstance(n, str) for n in primed):
        raise TypeError(f"primed must be a list of element names, e.g. primed=[{G.names[-1]!r}], "
                        f"got {primed!r}")
    mask = np.zeros(G.order, dtype=bool)
    for name in primed:
        mask[G.index_of(_unprimed_name(name))] = True
    if not mask.any():
        raise GroupError(f"no element is primed: the ordinary group is {G.name} itself (type I)")
    if mask[0]:
        raise GroupError(f"E cannot be primed: E·T is time reversal itself, which makes the grey group "
                         f"{G.name} * TimeReversal()")
    for phi in _halvings(G):
        if np.array_equal(phi, mask):
            return MagneticPointGroup(G, phi, _symbol(G, phi))
    raise GroupError(_not_a_halving(G, mask))


def _unprimed_name(name: str) -> str:
    for suffix in (_T_SUFFIX, "'", "′"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _not_a_halving(G: PointGroup, mask: np.ndarray) -> str:
    head = (f"the primed elements {_names(G, mask)} of {G.name} are not the complement of a subgroup of "
            "index 2 (they must be exactly the elements outside one)")
    if not _halvings(G):
        return f"{head}; {G.name} has no subgroup of index 2, so no black-and-white groups"
    containing = [phi for phi in _halvings(G) if np.all(phi[mask])]
    if containing:
        listed = "; ".join(f"{_symbol(G, phi)}: primed={_names(G, phi)}" for phi in containing)
        return f"{head}; complete sets that contain them: {listed}"
    listed = "; ".join(f"{_symbol(G, phi)}: primed={_names(G, phi)}" for phi in _halvings(G))
    return f"{head}; the black-and-white groups of {G.name} are {listed}"


def _names(G: Group, mask: np.ndarray) -> list[str]:
    return [G.names[g] for g in np.flatnonzero(mask)]


# -- symbols of a point group -------------------------------------------------------------------

_X, _Y, _Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
#: the representative symmetry direction of each position of a symbol, by crystal system
_DIRECTIONS = {
    3: {"triclinic": (None,), "monoclinic": (_Z,), "orthorhombic": (_X, _Y, _Z),
        "tetragonal": (_Z, _X, (1.0, 1.0, 0.0)), "trigonal": (_Z, _X, _Y), "hexagonal": (_Z, _X, _Y),
        "cubic": (_Z, (1.0, 1.0, 1.0), (1.0, 1.0, 0.0))},
    2: {"oblique": (None,), "rectangular": (None, _X, _Y), "square": (None, _X, (1.0, 1.0, 0.0)),
        "hexagonal": (None, _X, _Y)},
}


def _display(G: PointGroup) -> str:
    """The symbol magnetic names build on: the class symbol in the standard setting (``"3m"``
    rather than ``"3m1"``), the setting's own otherwise."""
    return G.hermann_mauguin if G.standard else G.setting


@functools.cache
def _parts(G: PointGroup) -> tuple[tuple[tuple[str, int], ...], ...]:
    """Per position of ``_display(G)``, its parts as ``(letter, element index)``."""
    system = next(i.system for i in point_group_symbols(G.dim) if i.schoenflies == G.schoenflies)
    directions = _DIRECTIONS[G.dim][system]
    if G.dim == 2 and _display(G) == "m":  # the mirror alone: its position is the first direction
        directions = directions[1:]
    out = []
    for position, direction in zip(_tokens(_display(G)), directions, strict=False):
        out.append(tuple((letter, _element(G, letter, direction)) for letter, _ in position))
    return tuple(out)


def _element(G: PointGroup, letter: str, direction) -> int:
    """Index of the element a symbol part stands for (a rotation by 2π/n, its rotoinversion, or
    the mirror normal to ``direction``)."""
    d = G.dim
    if letter == "m":
        n = np.asarray(direction[:d]) / np.linalg.norm(direction[:d])
        m = np.eye(d) - 2.0 * np.outer(n, n)
    else:
        order = abs(int(letter))
        m = _rotation(2 * np.pi / order, direction)[:d, :d] * (-1.0 if letter.startswith("-") else 1.0)
    return int(np.flatnonzero(np.max(np.abs(G.matrices - m), axis=(1, 2)) < 1e-8)[0])


def _rotation(angle: float, axis) -> np.ndarray:
    """Rotation by ``angle`` about ``axis`` (3×3; about z when ``axis`` is None)."""
    u = np.asarray(_Z if axis is None else axis) / np.linalg.norm(_Z if axis is None else axis)
    k = np.array([[0.0, -u[2], u[1]], [u[2], 0.0, -u[0]], [-u[1], u[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


@functools.cache
def _halvings(G: PointGroup) -> tuple[np.ndarray, ...]:
    """The primed masks of G's black-and-white groups: where a non-trivial one-dimensional real
    irrep is -1 (its kernel is the subgroup of index 2)."""
    masks = []
    for irrep in real_irreps(G)[1:]:
        if irrep.dim == 1:
            mask = irrep.matrices[:, 0, 0] < 0
            mask.setflags(write=False)
            masks.append(mask)
    return tuple(masks)


def _symbol(G: PointGroup, primed: np.ndarray | None) -> str:
    """The symbol of G with primes on the parts whose element is primed (none for None)."""
    return "".join(
        "/".join(letter + ("'" if primed is not None and primed[g] else "") for letter, g in position)
        for position in _parts(G)
    )


# -- the list of types ---------------------------------------------------------------------------


@functools.cache
def _catalogue(dim: int) -> tuple[str, ...]:
    out: list[str] = []
    for info in point_group_symbols(dim):
        G = point_group(info.schoenflies, dim)
        if not _halvings(G):
            continue
        autos = _geometric_automorphisms(G)
        seen: set[bytes] = set()
        for phi in sorted(_halvings(G), key=lambda p: _prime_order(G, p)):
            if phi.tobytes() in seen:
                continue
            orbit = [_apply(a, phi) for a in autos]
            seen.update(o.tobytes() for o in orbit)
            out.append(_symbol(G, min(orbit, key=lambda p: _prime_order(G, p))))
    return tuple(out)


def _prime_order(G: PointGroup, primed: np.ndarray) -> tuple[bool, ...]:
    """Sort key: symbols whose primes come first sort first."""
    return tuple(not primed[g] for position in _parts(G) for _, g in position)


def _apply(automorphism: np.ndarray, primed: np.ndarray) -> np.ndarray:
    out = np.zeros_like(primed)
    out[automorphism] = primed
    return out


def _geometric_automorphisms(G: Group) -> list[np.ndarray]:
    """The automorphisms g ↦ α(g) of G induced by an orthogonal change of coordinates, as index
    arrays: those that keep the trace of every matrix (equal characters make the representations
    g ↦ R_g and g ↦ R_α(g) equivalent, hence orthogonally conjugate)."""
    traces = np.round(np.trace(G.matrices, axis1=1, axis2=2), 8)
    gens = _generating_set(G)
    candidates = [np.flatnonzero((traces == traces[s]) & (G.element_orders == G.element_orders[s]))
                  for s in gens]
    out = []
    for images in np.array(np.meshgrid(*candidates, indexing="ij")).reshape(len(gens), -1).T:
        alpha = _extend(G, gens, images)
        if alpha is not None and np.array_equal(traces[alpha], traces):
            out.append(alpha)
    return out


def _extend(G: Group, gens: Sequence[int], images: Sequence[int]) -> np.ndarray | None:
    """The automorphism sending ``gens`` to ``images``, or None if there is none."""
    alpha = -np.ones(G.order, dtype=np.int64)
    alpha[0] = 0
    frontier = [0]
    while frontier:
        nxt = []
        for x in frontier:
            for s, t in zip(gens, images, strict=True):
                y, v = G.table[x, s], G.table[alpha[x], t]
                if alpha[y] < 0:
                    alpha[y] = v
                    nxt.append(y)
                elif alpha[y] != v:
                    return None
        frontier = nxt
    return alpha if len(np.unique(alpha)) == G.order else None
