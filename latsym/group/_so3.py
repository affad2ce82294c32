"""SO(3) spin rotations as an internal group: real Wigner D matrices and Clebsch–Gordan coefficients.

**Elements** are 3×3 rotation matrices R (RᵀR = 1, det R = +1); :meth:`SO3.rotation` builds one
from an axis and an angle and :meth:`SO3.axis_angle` goes back.

**Real basis of irrep l** (dimension 2l + 1): the real spherical harmonics, ordered by |m| in
(cos, sin) pairs and with m = 0 last::

    Y_{l,1}, Y_{l,-1}, Y_{l,2}, Y_{l,-2}, …, Y_{l,l}, Y_{l,-l}, Y_{l,0}

where ``Y_{l,m} = √2 (−1)^m Re Y_l^m`` and ``Y_{l,−m} = √2 (−1)^m Im Y_l^m`` for m > 0 and
``Y_{l,0} = Y_l^0``, with the complex harmonics ``Y_l^m`` in the Condon–Shortley phase
convention. For l = 1 this is the Cartesian basis (x, y, z): the matrix of irrep 1 is R itself,
so a spin S transforms as S ↦ R S. For l = 2 it is (xz, yz, (x² − y²)/2, xy, (3z² − r²)/(2√3)),
up to a common factor. A rotation by θ about z is block-diagonal,
``D^l = diag(R(θ), R(2θ), …, R(lθ), 1)`` with R(φ) the 2×2 rotation: the pairs carry the U(1)
charges 1 … l (:class:`~latsym.group.U1`) and the last component charge 0.

**Wigner D**: ``D^l(R)`` with ``Y(R r) = D^l(R) Y(r)`` for the vector Y of the basis above, so
``D^l(R1 R2) = D^l(R1) D^l(R2)``. It is computed from R by the exact recursion
``D^l(R) = Cᵀ (D^{l−1}(R) ⊗ R) C`` with C the coupling (l − 1) ⊗ 1 → l below: no Euler angles.

**Clebsch–Gordan**: :func:`so3_clebsch_gordan` gives ``C[i, j, k]`` for l1 ⊗ l2 → l3 in this
basis, built from the exact Condon–Shortley coefficients of ``sympy.physics.wigner``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from latsym.group._compact import LieIrrep, check_count_and_seed
from latsym.group._errors import GroupError
from latsym.group._lie import LieGroup, check_real

#: Tolerance of the check that a matrix is a rotation (RᵀR = 1 and det R = 1 entrywise).
ROTATION_ATOL = 1e-8


def check_degree(l: Any) -> int:
    """A degree l ≥ 0 as an int."""
    if isinstance(l, bool) or not isinstance(l, int | np.integer):
        raise TypeError(f"the degree l must be an integer, got {type(l).__name__}")
    if l < 0:
        raise GroupError(f"the degree l must be >= 0, got {l}")
    return int(l)


def check_rotation(rotation: Any) -> np.ndarray:
    """``rotation`` as a float64 array ``(..., 3, 3)`` of rotation matrices, or a clear error."""
    try:
        R = np.asarray(rotation, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"an element of SO3 is a 3x3 rotation matrix: {exc}") from exc
    if R.ndim < 2 or R.shape[-2:] != (3, 3):
        raise GroupError(f"an element of SO3 is a 3x3 rotation matrix, got shape {R.shape}")
    if not np.all(np.isfinite(R)):
        raise GroupError("the rotation matrix has NaN or inf entries")
    error = np.abs(np.swapaxes(R, -1, -2) @ R - np.eye(3)).max()
    if error > ROTATION_ATOL:
        raise GroupError(
            f"not a rotation matrix: RᵀR differs from the identity by {error:.3g}; pass an orthogonal "
            "matrix with det +1 (e.g. SO3.rotation(axis, angle))"
        )
    if np.any(np.linalg.det(R) < 0):
        raise GroupError("not a rotation matrix: det R = -1 (an improper rotation); SO3 holds det +1 only")
    return R


@functools.cache
def _complex_to_real(l: int) -> np.ndarray:
    """Unitary U ``(2l+1, 2l+1)``: the real basis vector a is ``Σ_m U[a, m + l] Y_l^m``."""
    U = np.zeros((2 * l + 1, 2 * l + 1), dtype=np.complex128)
    s = 1 / np.sqrt(2)
    for m in range(1, l + 1):
        sign = (-1) ** m
        U[2 * m - 2, l + m], U[2 * m - 2, l - m] = sign * s, s  # √2 (−1)^m Re Y_l^m
        U[2 * m - 1, l + m], U[2 * m - 1, l - m] = -1j * sign * s, 1j * s  # √2 (−1)^m Im Y_l^m
    U[2 * l, l] = 1.0
    U.setflags(write=False)
    return U


@functools.cache
def _cached_clebsch_gordan(l1: int, l2: int, l3: int) -> np.ndarray:
    from sympy.physics.wigner import clebsch_gordan as exact_clebsch_gordan  # slow to import: on first use

    sign = (-1) ** (l1 + l2 - l3)
    if l1 > l2:  # the exchange symmetry ⟨l2 m2 l1 m1|l3 m3⟩ = (−1)^(l1+l2−l3) ⟨l1 m1 l2 m2|l3 m3⟩
        C = sign * _cached_clebsch_gordan(l2, l1, l3).transpose(1, 0, 2)
        C.setflags(write=False)
        return C
    complex_cg = np.zeros((2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1))
    for m1 in range(-l1, l1 + 1):
        for m2 in range(max(-l2, -m1), min(l2, l3 - m1) + 1):
            if m1 + m2 == 0 and m1 < 0:
                continue
            value = float(exact_clebsch_gordan(l1, l2, l3, m1, m2, m1 + m2))
            complex_cg[l1 + m1, l2 + m2, l3 + m1 + m2] = value
            # the reflection ⟨l1 −m1 l2 −m2|l3 −m3⟩ = (−1)^(l1+l2−l3) ⟨l1 m1 l2 m2|l3 m3⟩
            complex_cg[l1 - m1, l2 - m2, l3 - m1 - m2] = sign * value
    U1, U2, U3 = _complex_to_real(l1), _complex_to_real(l2), _complex_to_real(l3)
    C = np.einsum("ai,bj,ijk,ck->abc", U1, U2, complex_cg, U3.conj())
    # real when l1 + l2 + l3 is even, imaginary when it is odd
    C = C.real + 0.0 if (l1 + l2 + l3) % 2 == 0 else -C.imag + 0.0
    C.setflags(write=False)
    return C


def so3_clebsch_gordan(l1: int, l2: int, l3: int) -> np.ndarray:
    """Real Clebsch–Gordan coefficients of SO(3) for ``l1 ⊗ l2 → l3``, in the real basis of
    :mod:`latsym.group._so3`.

    ``C = (U1 ⊗ U2) C_complex U3^†`` with ``C_complex[m1, m2, m3] = ⟨l1 m1 l2 m2 | l3 m3⟩`` the
    exact Condon–Shortley coefficients of ``sympy.physics.wigner.clebsch_gordan`` and ``U_l`` the
    complex-to-real change of basis; that product is real for even l1 + l2 + l3 and purely
    imaginary for odd, and C is its real part, respectively minus its imaginary part (the sign
    that makes 1 ⊗ 1 → 1 the cross product; escnn's real coefficients are the same up to the
    reordering of the basis). Cached in memory by ``(l1, l2, l3)``.

    Returns:
        Read-only ``(2l1+1, 2l2+1, 2l3+1)`` array. Normalisation: ``C.reshape(d1 * d2, d3)`` has
        orthonormal columns (``Σ_ij C[i,j,k] C[i,j,k'] = δ_kk'``). Equivariance, for every rotation
        R: ``(D^{l1}(R) ⊗ D^{l2}(R)) C = C D^{l3}(R)`` and ``D^{l3}(R) Cᵀ = Cᵀ (D^{l1}(R) ⊗ D^{l2}(R))``.
        Exchange: ``C(l2, l1, l3) = (−1)^(l1+l2−l3) C(l1, l2, l3).transpose(1, 0, 2)``.

    Raises:
        GroupError: l3 is not in ``|l1 − l2| … l1 + l2`` (the triangle rule), or a negative degree.

    Two vectors couple to a scalar through their dot product, ``C[i, j, 0] = −δ_ij / √3`` (the
    Condon–Shortley sign), and to a vector through their cross product, ``C[i, j, k] = ε_ijk / √2``:

    >>> C = so3_clebsch_gordan(1, 1, 1)
    >>> (C * 2**0.5).round(12)[0].tolist()  # i = x: ε_xjk
    [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]
    >>> bool(abs(so3_clebsch_gordan(1, 1, 0)[:, :, 0] - (-np.eye(3) / 3**0.5)).max() < 1e-15)
    True
    """
    l1, l2, l3 = check_degree(l1), check_degree(l2), check_degree(l3)
    if not abs(l1 - l2) <= l3 <= l1 + l2:
        raise GroupError(f"{l1} ⊗ {l2} does not contain {l3}: l3 must lie in |l1 - l2| … l1 + l2")
    return _cached_clebsch_gordan(l1, l2, l3)


def wigner_D(l: int, rotation: np.ndarray) -> np.ndarray:
    """The real Wigner D matrix of degree l at a rotation, in the basis of :mod:`latsym.group._so3`.

    Args:
        l: the degree, l ≥ 0.
        rotation: a rotation matrix ``(3, 3)`` or a stack ``(..., 3, 3)``.

    Returns:
        ``(..., 2l+1, 2l+1)`` orthogonal matrices; ``wigner_D(1, R) == R``.

    >>> R = SO3.rotation([0, 0, 1], np.pi / 2)  # 90° about z
    >>> wigner_D(2, R).round(12) + 0.0  # (xz, yz) rotate by 90°, (x²−y², xy) by 180°, z² stays
    array([[ 0., -1.,  0.,  0.,  0.],
           [ 1.,  0.,  0.,  0.,  0.],
           [ 0.,  0., -1.,  0.,  0.],
           [ 0.,  0.,  0., -1.,  0.],
           [ 0.,  0.,  0.,  0.,  1.]])
    """
    l, R = check_degree(l), check_rotation(rotation)
    D = np.ones((*R.shape[:-2], 1, 1))
    if l == 0:
        return D
    D = R.copy()
    for k in range(2, l + 1):
        C = so3_clebsch_gordan(k - 1, 1, k).reshape(3 * (2 * k - 1), 2 * k + 1)
        product = np.einsum("...ij,...ab->...iajb", D, R).reshape(*R.shape[:-2], C.shape[0], C.shape[0])
        D = C.T @ product @ C
    return D


class SO3(LieGroup):
    """SO(3) spin rotations acting on field values (an internal group).

    Irreps are labelled by the degree l = 0, 1, 2, … (dimension 2l + 1, all of real type) and
    elements are 3×3 rotation matrices; the real basis of each irrep is described in
    :mod:`latsym.group._so3` (for l = 1 the Cartesian (x, y, z): a spin transforms by R itself).

    Args:
        name: the group's name (default ``"SO3"``); groups with different names are different
            symmetries.

    >>> K = SO3()
    >>> K.is_finite, [(r.name, r.dim) for r in K.irreps(max_l=2)]
    (False, [('0', 1), ('1', 3), ('2', 5)])
    >>> R = SO3.rotation([1, 1, 1], 2 * np.pi / 3)  # x → y → z → x
    >>> K.irrep(1).matrix(R).round(12) + 0.0
    array([[0., 0., 1.],
           [1., 0., 0.],
           [0., 1., 0.]])
    """

    cutoff = "max_l"

    def __init__(self, name: str = "SO3"):
        super().__init__(name)

    # -- elements -------------------------------------------------------------------------------

    @staticmethod
    def rotation(axis: np.ndarray, angle: float) -> np.ndarray:
        """The rotation by ``angle`` (radians, right-handed) about ``axis`` (any non-zero 3-vector),
        ``(3, 3)`` (Rodrigues' formula)."""
        a = np.asarray(axis, dtype=np.float64)
        if a.shape != (3,) or not np.all(np.isfinite(a)) or not np.linalg.norm(a) > 0:
            raise GroupError(f"the axis must be a finite non-zero 3-vector, got {axis!r}")
        angle = check_real(angle, "the angle")
        x, y, z = a / np.linalg.norm(a)
        K = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
        return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * (K @ K)

    @staticmethod
    def axis_angle(rotation: np.ndarray) -> tuple[np.ndarray, float]:
        """``(axis, angle)`` with a unit axis and ``0 ≤ angle ≤ π`` such that
        ``SO3.rotation(axis, angle)`` is ``rotation`` (axis ``(0, 0, 1)`` for the identity)."""
        R = check_rotation(rotation)
        if R.shape != (3, 3):
            raise GroupError(f"axis_angle takes one rotation matrix (3, 3), got shape {R.shape}")
        w = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])  # 2 sin θ n
        cos = (np.trace(R) - 1) / 2
        angle = float(np.arctan2(np.linalg.norm(w) / 2, cos))
        if angle < 1e-12:
            return np.array([0.0, 0.0, 1.0]), 0.0
        if cos > 0:
            return w / np.linalg.norm(w), angle
        # near a half turn w is small: (R + Rᵀ)/2 − cos θ = (1 − cos θ) n nᵀ gives n up to its sign
        outer = (R + R.T) / 2 - cos * np.eye(3)
        n = outer[:, int(np.argmax(np.diag(outer)))]
        n = n / np.linalg.norm(n)
        if abs(n @ w) > 1e-12:
            return (n if n @ w > 0 else -n), angle
        return (n if n[np.flatnonzero(np.abs(n) > 1e-12)[0]] > 0 else -n), angle  # a half turn

    @property
    def identity(self) -> np.ndarray:
        return np.eye(3)

    def check_element(self, element: np.ndarray) -> np.ndarray:
        """A rotation matrix ``(3, 3)`` as a float64 array (raises for anything else)."""
        R = check_rotation(element)
        if R.shape != (3, 3):
            raise GroupError(f"an element of SO3 is one 3x3 rotation matrix, got shape {R.shape}")
        return R

    def compose(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.check_element(a) @ self.check_element(b)

    def invert(self, a: np.ndarray) -> np.ndarray:
        return self.check_element(a).T.copy()

    def test_elements(self) -> list[np.ndarray]:
        """17 rotations: the identity, rotations by π/2, 2π/3, π and 1 rad about x, y and z (in that
        order), and four generic rotations about generic axes."""
        out = [np.eye(3)]
        for axis in np.eye(3):
            out += [self.rotation(axis, angle) for angle in (np.pi / 2, 2 * np.pi / 3, np.pi, 1.0)]
        out += [self.rotation(axis, angle) for axis, angle in _GENERIC]
        return out

    def sample_elements(self, n: int, seed: int = 0) -> list[np.ndarray]:
        """``n`` rotations drawn from the Haar measure (normalised Gaussian quaternions)."""
        check_count_and_seed(n, seed)
        q = np.random.default_rng(seed).standard_normal((n, 4))
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        return [_quaternion_to_matrix(x) for x in q]

    # -- irreps ---------------------------------------------------------------------------------

    def irreps(self, max_l: int) -> tuple[LieIrrep, ...]:
        """The irreps of degree l = 0 … ``max_l``."""
        return self._irreps_up_to(max_l)

    def _irrep_shape(self, label: int) -> tuple[int, str]:
        return 2 * label + 1, "R"

    def irrep_matrix(self, label: int, element: np.ndarray) -> np.ndarray:
        return wigner_D(self.parse_label(label), self.check_element(element))

    def clebsch_gordan(self, irrep1: LieIrrep, irrep2: LieIrrep, irrep3: LieIrrep) -> np.ndarray:
        """:func:`so3_clebsch_gordan` as ``(1, d1, d2, d3)``, or ``(0, d1, d2, d3)`` when l3 is
        outside ``|l1 − l2| … l1 + l2``."""
        l1, l2, l3 = self._check_irreps(irrep1, irrep2, irrep3)
        if not abs(l1 - l2) <= l3 <= l1 + l2:
            return np.zeros((0, 2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1))
        return so3_clebsch_gordan(l1, l2, l3)[None]


#: Axes and angles of the generic test rotations.
_GENERIC = (
    ((1.0, 2.0, 3.0), 0.7),
    ((-0.3, 0.5, 0.8), 2.1),
    ((0.9, -0.4, 0.2), -1.3),
    ((0.1, 0.2, -1.0), 2.9),
)


def _quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])
