"""latsym.forcefield.FieldLayout: the array layout of a model's fields."""

import pytest

from latsym.forcefield import FieldLayout


@pytest.mark.parametrize(
    ("layout", "site_shape", "channel_dim"),
    [
        (FieldLayout(dim=2), (), None),
        (FieldLayout(dim=2, sublattices=2), (2,), None),
        (FieldLayout(dim=2, channels=3), (3,), 1),
        (FieldLayout(dim=3, channels=3, sublattices=2), (3, 2), 1),
    ],
)
def test_shapes(layout, site_shape, channel_dim):
    cells = (4,) * layout.dim
    assert layout.site_shape == site_shape
    assert layout.channel_dim == channel_dim
    assert layout.shape(cells) == (*site_shape, *cells)
    assert layout.batch_shape(5, cells) == (5, *site_shape, *cells)
    assert layout.cells(layout.shape(cells)) == cells
    assert layout.cells(layout.batch_shape(2, cells)) == cells


def test_bad_layouts_and_shapes_are_refused():
    with pytest.raises(ValueError, match="dim must be 2 or 3"):
        FieldLayout(dim=1)
    with pytest.raises(ValueError, match="channels must be a positive integer"):
        FieldLayout(dim=2, channels=0)
    with pytest.raises(ValueError, match="sublattices must be a positive integer"):
        FieldLayout(dim=2, sublattices=True)
    with pytest.raises(ValueError, match="centre must have 2 coordinates"):
        FieldLayout(dim=2, centre=(0.0, 0.0, 0.0))
    layout = FieldLayout(dim=2, sublattices=2, centre=[0.5, 0.25])
    assert layout.centre == (0.5, 0.25)
    with pytest.raises(ValueError, match=r"expected fields of shape \(2, L1, L2\) or \(batch, 2, L1, L2\)"):
        layout.cells((3, 4, 4))
    with pytest.raises(ValueError, match="cells must give 2 sizes"):
        layout.shape((4,))
