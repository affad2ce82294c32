"""Direct products G × K × ... of finite groups (``G * K``)."""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from latsym.group._group import Group, GroupError, check_order


class DirectProduct(Group):
    """The direct product of finite groups, e.g. a point group times an internal group.

    Elements are tuples ``(g_i, k_j, ...)`` indexed in mixed radix: for two factors the index of
    ``(g_i, k_j)`` is ``i * |K| + j`` (identity 0); :meth:`split` and :meth:`index` convert.
    Nested products are flattened: ``G * K1 * K2`` has the three ``factors`` ``(G, K1, K2)``. The
    order of the product is at most :data:`~latsym.group.MAX_ORDER`.

    - ``names``: the non-identity components joined by ``·`` (``"C4z·P"``, ``"P"``, ``"E"``). A
      factor whose element names repeat an earlier factor's is numbered: in ``G * Z2() * Z2()`` the
      second Z2's ``P`` is ``P2`` (as ``latsym irreps --internal Z2 --internal Z2`` prints it);
      pass ``Z2(symbol="Q")`` to choose the name.
    - ``matrices``: the action on positions. Internal factors act on values only, so the
      product's matrices are those of its spatial factors, lifted (``matrices[index(i, j)] ==
      G.matrices[i]`` for G spatial and K internal; block-diagonal if several factors are
      spatial). None if no factor is spatial or a spatial factor has no matrices.
    - ``is_internal``: True only if every factor is internal.
    - conjugacy classes are products of the factors' classes: the class of ``(g, k)`` is
      ``class_of_G[g] * n_classes_K + class_of_K[k]``.

    >>> from latsym.group import Z2, point_group
    >>> GK = point_group("C4v") * Z2("particle_hole")
    >>> GK.order, len(GK.classes), GK.names[3], GK.split(3), GK.is_internal
    (16, 10, 'C4z·P', (1, 1), False)
    """

    def __init__(self, *factors: Group):
        flat: list[Group] = []
        for f in factors:
            if not isinstance(f, Group):
                raise TypeError(f"factors of a direct product must be Groups, got {type(f).__name__}")
            flat.extend(f.factors if isinstance(f, DirectProduct) else [f])
        if len(flat) < 2:
            raise GroupError(f"a direct product needs at least two factors, got {len(flat)}")
        check_order(math.prod(f.order for f in flat), f"the product group {'×'.join(f.name for f in flat)}")
        factor_names = _distinct_names(flat)
        self.factors: tuple[Group, ...] = tuple(flat)
        self.shape: tuple[int, ...] = tuple(f.order for f in flat)
        table = flat[0].table
        for f in flat[1:]:
            n, m = table.shape[0], f.order
            table = (table[:, None, :, None] * m + f.table[None, :, None, :]).reshape(n * m, n * m)
        parts = self._components(np.arange(table.shape[0]))
        names = []
        for idx in zip(*parts, strict=True):
            named = [fn[k] for fn, k in zip(factor_names, idx, strict=True) if k != 0]
            names.append("·".join(named) or "E")
        super().__init__(table, matrices=self._lift(parts), names=names,
                         name="×".join(f.name for f in flat), check=False)
        self.is_internal = all(f.is_internal for f in flat)

    def _components(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(c, dtype=np.int64) for c in np.unravel_index(indices, self.shape))

    def _lift(self, parts: tuple[np.ndarray, ...]) -> np.ndarray | None:
        spatial = [(f, p) for f, p in zip(self.factors, parts, strict=True) if not f.is_internal]
        if not spatial or any(f.matrices is None for f, _ in spatial):
            return None
        dims = [f.matrices.shape[1] for f, _ in spatial]
        out = np.zeros((len(parts[0]), sum(dims), sum(dims)))
        start = 0
        for (f, p), d in zip(spatial, dims, strict=True):
            out[:, start:start + d, start:start + d] = f.matrices[p]
            start += d
        return out

    def split(self, index: int) -> tuple[int, ...]:
        """The factor components ``(i, j, ...)`` of element ``index``.

        >>> from latsym.group import Z2, Zn
        >>> (Zn(3) * Z2()).split(5)
        (2, 1)
        """
        if not 0 <= int(index) < self.order:
            raise GroupError(f"element index {index} out of range for a group of order {self.order}")
        return tuple(int(c) for c in np.unravel_index(int(index), self.shape))

    def index(self, *components: int) -> int:
        """The element index of ``(g_i, k_j, ...)``, one component per factor.

        >>> from latsym.group import Z2, Zn
        >>> (Zn(3) * Z2()).index(2, 1)
        5
        """
        if len(components) != len(self.factors):
            raise GroupError(f"expected one component per factor ({len(self.shape)}), got {len(components)}")
        for c, n in zip(components, self.shape, strict=True):
            if not 0 <= int(c) < n:
                raise GroupError(f"component {c} out of range for a factor of order {n}")
        return int(np.ravel_multi_index(tuple(int(c) for c in components), self.shape))

    def embedding(self, k: int) -> np.ndarray:
        """Indices of the elements ``(e, ..., g, ..., e)`` of factor ``k``: ``embedding(k)[g]``
        is the index of factor k's element g, shape ``(order_k,)``."""
        if not 0 <= k < len(self.factors):
            raise GroupError(f"factor index {k} out of range for {len(self.factors)} factors")
        comps = [np.zeros(self.shape[k], dtype=np.int64) for _ in self.factors]
        comps[k] = np.arange(self.shape[k])
        return np.ravel_multi_index(tuple(comps), self.shape)

    @cached_property
    def class_of(self) -> np.ndarray:
        """Mixed radix of the factors' class indices (which numbers the classes in order of their
        first element, as for any :class:`Group`)."""
        parts = self._components(np.arange(self.order))
        out = np.zeros(self.order, dtype=np.int64)
        for f, p in zip(self.factors, parts, strict=True):
            out = out * len(f.classes) + f.class_of[p]
        out.setflags(write=False)
        return out

    def _identity(self) -> tuple:
        return ("product", *(f._identity() for f in self.factors))

    def __repr__(self) -> str:
        return f"DirectProduct({', '.join(repr(f) for f in self.factors)})"


def _distinct_names(factors: list[Group]) -> list[list[str]]:
    """Each factor's element names; a factor whose names repeat an earlier factor's is numbered (its
    ``P`` becomes ``P2``, ``g^2`` becomes ``g2^2``) with the smallest number that makes them new."""
    taken: set[str] = set()
    out = []
    for f in factors:
        names, k = list(f.names), 1
        while taken.intersection(names[1:]):
            k += 1
            names = ["E"] + [_numbered(name, k) for name in f.names[1:]]
        taken.update(names[1:])
        out.append(names)
    return out


def _numbered(name: str, k: int) -> str:
    base, caret, power = name.partition("^")
    return f"{base}{k}{caret}{power}"
