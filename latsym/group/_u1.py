"""U(1) phase rotations as an internal group: real irreps of charge n and their couplings.

**Elements** are angles θ in radians (any real number; :meth:`U1.compose` reduces sums to
[0, 2π)). **Irreps** are labelled by the charge n = 0, 1, 2, …: n = 0 is the trivial 1-dim irrep,
and n ≥ 1 the 2-dim rotation by nθ, ``[[cos nθ, −sin nθ], [sin nθ, cos nθ]]``, acting on a pair
(a, b) that is the complex number z = a + ib with z ↦ e^{inθ} z (charges n and −n are the same
real irrep). These are of complex type: their commutant is spanned by 1 and J = R(π/2).

**Clebsch–Gordan** (:func:`u1_clebsch_gordan`): n1 ⊗ n2 = |n1 − n2| ⊕ (n1 + n2) for n1, n2 ≥ 1,
the couplings being the complex products z1 z2 (charge n1 + n2), z1 z̄2 (n1 − n2) and z̄1 z2
(n2 − n1), divided by √2; for n1 = n2 the charge 0 appears twice, as Re z1 z̄2 (symmetric, first)
and Im z1 z̄2 (antisymmetric). With charge 0 on either side the coupling is the plain product.
"""

from __future__ import annotations

import numpy as np

from latsym.group._compact import LieIrrep, check_count_and_seed
from latsym.group._errors import GroupError
from latsym.group._lie import LieGroup, check_real

_S = 1 / np.sqrt(2)
#: The coupling tensors ``(2, 2, 2)`` of two pairs into one, ``C[i, j, k]`` (see the module docstring).
_PRODUCT = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [-1.0, 0.0]]]) * _S  # z1 z2
_FIRST_TIMES_CONJUGATE = np.array([[[1.0, 0.0], [0.0, -1.0]], [[0.0, 1.0], [1.0, 0.0]]]) * _S  # z1 z̄2
_DOT = np.eye(2)[:, :, None] * _S  # Re z1 z̄2 = a1 a2 + b1 b2
_CROSS = np.array([[0.0, -1.0], [1.0, 0.0]])[:, :, None] * _S  # Im z1 z̄2 = b1 a2 − a1 b2


def check_charge(n) -> int:
    """A charge n ≥ 0 as an int."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"the charge n must be an integer, got {type(n).__name__}")
    if n < 0:
        raise GroupError(f"the charge n must be >= 0 (charges n and -n are the same real irrep), got {n}")
    return int(n)


def u1_rotation(n: int, angle: float) -> np.ndarray:
    """The matrix of charge n at angle θ: ``[[1]]`` for n = 0, else the 2×2 rotation by nθ."""
    n, angle = check_charge(n), check_real(angle, "the angle")
    if n == 0:
        return np.ones((1, 1))
    c, s = np.cos(n * angle), np.sin(n * angle)
    return np.array([[c, -s], [s, c]])


def u1_clebsch_gordan(n1: int, n2: int, n3: int) -> np.ndarray:
    """The copies of charge n3 in n1 ⊗ n2, ``(m, d1, d2, d3)`` with m = 0, 1 or 2.

    Same convention as :func:`~latsym.group.clebsch_gordan`: ``C[k].reshape(d1 * d2, d3)`` has
    orthonormal columns, ``(ρ_n1(θ) ⊗ ρ_n2(θ)) C[k] = C[k] ρ_n3(θ)``, images of different copies
    are orthogonal; the couplings are listed in :mod:`latsym.group._u1`.

    >>> u1_clebsch_gordan(1, 1, 0).shape  # Re z1 z̄2 and Im z1 z̄2
    (2, 2, 2, 1)
    >>> (u1_clebsch_gordan(2, 1, 3)[0] * 2**0.5).tolist()  # z1 z2 = (a1 a2 − b1 b2) + i (a1 b2 + b1 a2)
    [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [-1.0, 0.0]]]
    """
    n1, n2, n3 = check_charge(n1), check_charge(n2), check_charge(n3)
    dims = tuple(1 if n == 0 else 2 for n in (n1, n2, n3))
    if n1 == 0 or n2 == 0:
        if n3 != n1 + n2:
            return np.zeros((0, *dims))
        return np.eye(dims[2]).reshape(1, *dims)
    if n3 == n1 + n2:
        return _PRODUCT[None].copy()
    if n3 == n1 - n2 and n3 > 0:
        return _FIRST_TIMES_CONJUGATE[None].copy()
    if n3 == n2 - n1 and n3 > 0:  # z̄1 z2: exchange the inputs of z2 z̄1
        return _FIRST_TIMES_CONJUGATE.transpose(1, 0, 2)[None].copy()
    if n3 == 0 and n1 == n2:
        return np.stack([_DOT, _CROSS])
    return np.zeros((0, *dims))


class U1(LieGroup):
    """U(1) phase rotations acting on field values (an internal group), elements angles θ.

    Irreps are labelled by the charge n = 0, 1, 2, … (see :mod:`latsym.group._u1`).

    Args:
        name: the group's name (default ``"U1"``), e.g. ``"charge"``.

    >>> K = U1()
    >>> [(r.name, r.dim, r.type) for r in K.irreps(max_charge=2)]
    [('0', 1, 'R'), ('1', 2, 'C'), ('2', 2, 'C')]
    >>> K.irrep(2).matrix(np.pi / 4).round(12) + 0.0  # rotation by 2θ = 90°
    array([[ 0., -1.],
           [ 1.,  0.]])
    """

    cutoff = "max_charge"

    def __init__(self, name: str = "U1"):
        super().__init__(name)

    @property
    def identity(self) -> float:
        return 0.0

    def check_element(self, element: float) -> float:
        """An angle θ (radians) as a float."""
        return check_real(element, f"an element of {self.name} (an angle)")

    def compose(self, a: float, b: float) -> float:
        """``(a + b) mod 2π``."""
        return float((self.check_element(a) + self.check_element(b)) % (2 * np.pi))

    def invert(self, a: float) -> float:
        """``−a mod 2π``."""
        return float(-self.check_element(a) % (2 * np.pi))

    def test_elements(self) -> list[float]:
        """0, π/2, 2π/3, π, 3π/2 and the generic angles 1, 2.7 and −0.4 (radians)."""
        return [0.0, np.pi / 2, 2 * np.pi / 3, np.pi, 3 * np.pi / 2, 1.0, 2.7, -0.4]

    def sample_elements(self, n: int, seed: int = 0) -> list[float]:
        """``n`` angles drawn uniformly (the Haar measure) from [0, 2π)."""
        check_count_and_seed(n, seed)
        return [float(x) for x in np.random.default_rng(seed).uniform(0.0, 2 * np.pi, size=n)]

    def irreps(self, max_charge: int) -> tuple[LieIrrep, ...]:
        """The irreps of charge n = 0 … ``max_charge``."""
        return self._irreps_up_to(max_charge)

    def _irrep_shape(self, label: int) -> tuple[int, str]:
        return (1, "R") if label == 0 else (2, "C")

    def irrep_matrix(self, label: int, element: float) -> np.ndarray:
        return u1_rotation(self.parse_label(label), self.check_element(element))

    def clebsch_gordan(self, irrep1: LieIrrep, irrep2: LieIrrep, irrep3: LieIrrep) -> np.ndarray:
        """:func:`u1_clebsch_gordan` for three irreps of this group."""
        return u1_clebsch_gordan(*self._check_irreps(irrep1, irrep2, irrep3))
