"""The exceptions a dynamics run raises."""

from __future__ import annotations

from latsym._errors import LatsymError


class NonFiniteError(LatsymError, RuntimeError):
    """A field or force became NaN or infinite.

    Attributes:
        step: the step whose result is not finite (the last finite state is ``step - 1``).
        array: which array: ``"q"`` (fields), ``"v"`` (velocities) or ``"f"`` (forces).
    """

    def __init__(self, step: int, array: str):
        self.step = step
        self.array = array
        names = {"q": "fields q", "v": "velocities v", "f": "forces f"}
        if step == 0:
            where = "in the initial state: pass finite q0 and v0, and check the force function there"
        else:
            where = (
                f"at step {step}: the dynamics diverged (reduce dt, or check the force function); "
                f"the last finite state is that of step {step - 1}"
            )
        super().__init__(f"non-finite {names[array]} {where}")


class ResumeError(LatsymError, ValueError):
    """An existing trajectory file or checkpoint does not belong to the run being resumed."""
