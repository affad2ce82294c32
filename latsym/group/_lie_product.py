"""Direct products with a Lie factor: a point group × SO3 (× time reversal), a point group × U1, ….

Elements are tuples with one component per factor, e.g. ``(g, R)`` for G × SO3 (g an element
index of G, R a rotation matrix) and ``(g, R, t)`` for G × SO3 × T. Irreps are tuples of the
factors' irreps, written with the factors' labels joined by ``:`` in factor order, as for finite
direct products: ``"A1:1"`` is (A1, l = 1) and ``"A1g:1:odd"`` is (A1g, l = 1, odd under time
reversal) — a classical spin. An irrep's matrix is the Kronecker product of the factors'
matrices, first factor outermost (``np.kron(σ_G(g), D^l(R))``).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from latsym.group._compact import CompactGroup, LieIrrep, check_count_and_seed
from latsym.group._errors import GroupError
from latsym.group._product import DirectProduct


class LieProduct(CompactGroup):
    """The direct product of groups at least one of which is a compact Lie group (``G * SO3()``).

    Finite direct products among the factors are flattened into their factors, and so are nested
    products: ``G * SO3() * TimeReversal()`` has the three ``factors`` ``(G, SO3, TimeReversal)``.
    The product of finite groups alone is a :class:`~latsym.group.DirectProduct` instead.

    - elements: tuples, one component per factor; composed and inverted componentwise;
    - irreps: tuples of factor irreps, text form the factor labels joined by ``:`` in factor order
      (:meth:`format_label` / :meth:`parse_label`); :meth:`irreps` takes the Lie factors' cutoffs
      (``max_l=`` for SO3, ``max_charge=`` for U1) and lists the first factor fastest (as
      :class:`~latsym.group.DirectProduct` does), the trivial irrep first;
    - an irrep's matrix is the Kronecker product of the factors' matrices (first factor outermost);
      a product of two irreps that are both not of real type (E of C4 with a U(1) charge) is
      reducible over the reals and refused;
    - :meth:`intertwiners` and :meth:`clebsch_gordan` are the Kronecker products of the factors'
      (basis elements and copies in lexicographic order of the factors' indices, first factor
      slowest; components in Kronecker order);
    - ``test_elements()``: the identity, each factor's test elements with the other components at
      the identity (factor by factor), then mixed tuples whose k-th has component
      ``tests_f[k % len(tests_f)]`` for every factor f, k = 1 … max_f len(tests_f) − 1.

    >>> import numpy as np
    >>> from latsym.group import SO3, TimeReversal, point_group
    >>> P = point_group("4mm", dim=2) * SO3() * TimeReversal()
    >>> [f.name for f in P.factors]
    ['C4v', 'SO3', 'time_reversal']
    >>> spin = P.irrep("A1:1:odd")  # a classical spin: invariant under 4mm, a vector of SO3, T-odd
    >>> spin.dim, spin.label
    (3, ('A1', 1, 'odd'))
    >>> R = SO3.rotation([0, 0, 1], np.pi / 2)
    >>> spin.matrix((1, R, 1)).round(12) + 0.0  # C4 of the lattice, R on the spin, then T
    array([[ 0.,  1.,  0.],
           [-1.,  0.,  0.],
           [ 0.,  0., -1.]])
    """

    def __init__(self, *factors: CompactGroup):
        flat: list[CompactGroup] = []
        for f in factors:
            if not isinstance(f, CompactGroup):
                raise TypeError(f"factors of a product must be latsym groups, got {type(f).__name__}")
            flat.extend(f.factors if isinstance(f, LieProduct | DirectProduct) else [f])
        if len(flat) < 2:
            raise GroupError(f"a product needs at least two factors, got {len(flat)}")
        if all(f.is_finite for f in flat):
            raise GroupError(
                "every factor is finite: their product is a DirectProduct (G * K), not a LieProduct"
            )
        for i, f in enumerate(flat):
            if f in flat[:i]:
                raise GroupError(f"the factor {f!r} appears twice; give the second one its own name")
        self.factors: tuple[CompactGroup, ...] = tuple(flat)
        self.name = "×".join(f.name for f in flat)
        self.is_internal = all(f.is_internal for f in flat)
        self._irreps: dict[tuple, LieIrrep] = {}

    @property
    def is_finite(self) -> bool:
        return False

    # -- elements -------------------------------------------------------------------------------

    @property
    def identity(self) -> tuple:
        return tuple(f.identity for f in self.factors)

    def check_element(self, element: Any) -> tuple:
        """A tuple with one valid component per factor."""
        if not isinstance(element, tuple | list) or len(element) != len(self.factors):
            raise GroupError(
                f"an element of {self.name} is a tuple with one component per factor "
                f"({', '.join(f.name for f in self.factors)}), got {element!r}"
            )
        return tuple(f.check_element(x) for f, x in zip(self.factors, element, strict=True))

    def compose(self, a: Any, b: Any) -> tuple:
        a, b = self.check_element(a), self.check_element(b)
        return tuple(f.compose(x, y) for f, x, y in zip(self.factors, a, b, strict=True))

    def invert(self, a: Any) -> tuple:
        return tuple(f.invert(x) for f, x in zip(self.factors, self.check_element(a), strict=True))

    def test_elements(self) -> list[tuple]:
        tests = [f.test_elements() for f in self.factors]
        identity = self.identity
        out = [identity]
        for i, elements in enumerate(tests):
            out += [(*identity[:i], x, *identity[i + 1:]) for x in elements[1:]]
        out += [tuple(t[k % len(t)] for t in tests) for k in range(1, max(len(t) for t in tests))]
        return out

    def sample_elements(self, n: int, seed: int = 0) -> list[tuple]:
        """``n`` tuples, factor f drawn by its own ``sample_elements`` with a seed drawn from
        ``default_rng(seed)``."""
        check_count_and_seed(n, seed)
        seeds = np.random.default_rng(seed).integers(2**32, size=len(self.factors))
        columns = [f.sample_elements(n, int(s)) for f, s in zip(self.factors, seeds, strict=True)]
        return list(zip(*columns, strict=True))

    # -- irreps ---------------------------------------------------------------------------------

    def format_label(self, label: tuple) -> str:
        """``("A1", 1, "odd") → "A1:1:odd"``."""
        label = self.parse_label(label)
        return ":".join(f.format_label(x) for f, x in zip(self.factors, label, strict=True))

    def parse_label(self, text: str | tuple) -> tuple:
        """``"A1:1:odd" → ("A1", 1, "odd")`` (a tuple of factor labels is checked and returned)."""
        parts = text.split(":") if isinstance(text, str) else text
        if not isinstance(parts, tuple | list) or len(parts) != len(self.factors):
            raise GroupError(
                f"an irrep of {self.name} is written as the labels of its {len(self.factors)} factors "
                f"({', '.join(f.name for f in self.factors)}) joined by ':', e.g. "
                f"{':'.join(f.format_label(f.irrep(_trivial_label(f)).label) for f in self.factors)!r}; "
                f"got {text!r}"
            )
        return tuple(f.irrep(x).label for f, x in zip(self.factors, parts, strict=True))

    def irrep(self, label: str | tuple) -> LieIrrep:
        label = self.parse_label(label)
        if label not in self._irreps:
            parts = [f.irrep(x) for f, x in zip(self.factors, label, strict=True)]
            complex_like = [p for p in parts if p.type != "R"]
            if len(complex_like) > 1:
                raise GroupError(
                    f"the irrep {self.format_label(label)} of {self.name} is reducible over the reals: "
                    f"{' and '.join(_describe(p) for p in complex_like)} are both not of real type, and "
                    "such products are not supported"
                )
            endo = _kron_all([p.endomorphism_basis for p in parts])
            endo.setflags(write=False)
            kind = complex_like[0].type if complex_like else "R"
            dim = int(np.prod([p.dim for p in parts]))
            self._irreps[label] = LieIrrep(self, label, self.format_label(label), kind, dim, endo)
        return self._irreps[label]

    def irreps(self, **cutoffs: int) -> tuple[LieIrrep, ...]:
        """Every irrep up to the Lie factors' cutoffs, e.g. ``irreps(max_l=2)`` for G × SO3."""
        wanted = {f.cutoff for f in self.factors if not f.is_finite}
        if set(cutoffs) != wanted:
            raise GroupError(
                f"irreps of {self.name} take the cutoffs {sorted(wanted)} of its Lie factors, "
                f"got {sorted(cutoffs)}"
            )
        lists = [f.irreps() if f.is_finite else f.irreps(**{f.cutoff: cutoffs[f.cutoff]})
                 for f in self.factors]
        combos = itertools.product(*[[r.label for r in rs] for rs in reversed(lists)])
        return tuple(self.irrep(tuple(reversed(c))) for c in combos)

    def irrep_matrix(self, label: tuple, element: Any) -> np.ndarray:
        """``np.kron`` of the factors' matrices at the element's components."""
        label, element = self.parse_label(label), self.check_element(element)
        out = np.ones((1, 1))
        for f, x, g in zip(self.factors, label, element, strict=True):
            out = np.kron(out, f.irrep(x).matrix(g))
        return out

    def intertwiners(self, irrep_in: LieIrrep, irrep_out: LieIrrep) -> np.ndarray:
        """Kronecker products of the factors' intertwiners ``(k, d_out, d_in)``, lexicographic
        in the factors' basis indices (first factor slowest); empty unless the irreps are equal."""
        ins, outs = self._split(irrep_in), self._split(irrep_out)
        return _kron_all([f.intertwiners(a, b) for f, a, b in zip(self.factors, ins, outs, strict=True)])

    def clebsch_gordan(self, irrep1: LieIrrep, irrep2: LieIrrep, irrep3: LieIrrep) -> np.ndarray:
        """The copies ``(m, d1, d2, d3)`` of irrep3 in irrep1 ⊗ irrep2: Kronecker products of the
        factors' copies, copies in lexicographic order of the factors' copy indices (first factor
        slowest), components in Kronecker order; m is the product of the factors' multiplicities."""
        parts = zip(self.factors, self._split(irrep1), self._split(irrep2), self._split(irrep3), strict=True)
        C = np.ones((1, 1, 1, 1))
        for f, a, b, c in parts:
            F = f.clebsch_gordan(a, b, c)
            m, (d1, d2, d3) = C.shape[0] * F.shape[0], (C.shape[k] * F.shape[k] for k in (1, 2, 3))
            C = np.einsum("kabc,lxyz->klaxbycz", C, F).reshape(m, d1, d2, d3)
        return C

    def _split(self, irrep: LieIrrep) -> list:
        if not isinstance(irrep, LieIrrep) or irrep.group != self:
            raise GroupError(f"expected an irrep of {self.name}, got {irrep!r}")
        return [f.irrep(x) for f, x in zip(self.factors, irrep.label, strict=True)]

    # -- identity -------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LieProduct) and self.factors == other.factors

    def __hash__(self) -> int:
        return hash(self.factors)

    def __repr__(self) -> str:
        return f"LieProduct({', '.join(repr(f) for f in self.factors)})"

    def __mul__(self, other: object) -> LieProduct:
        if not isinstance(other, CompactGroup):
            return NotImplemented
        return LieProduct(self, other)

    def __rmul__(self, other: object) -> LieProduct:
        if not isinstance(other, CompactGroup):
            return NotImplemented
        return LieProduct(other, self)


def _trivial_label(f: CompactGroup):
    return f.irreps()[0].label if f.is_finite else 0


def _describe(irrep) -> str:
    name = getattr(irrep, "name", None) or irrep.label
    return f"{name} of {irrep.group.name} (type {irrep.type})"


def _kron_all(bases: list[np.ndarray]) -> np.ndarray:
    """All Kronecker products ``kron(B1[i], B2[j], …)``, ``(Π k_f, Π rows, Π cols)``, i slowest."""
    out = np.ones((1, 1, 1))
    for B in bases:
        out = np.einsum("kab,lxy->klaxby", out, B).reshape(
            out.shape[0] * B.shape[0], out.shape[1] * B.shape[1], out.shape[2] * B.shape[2])
    return out
