"""latsym-springs: the smallest complete latsym model plugin (see :mod:`latsym_springs.plugin`)."""

from latsym_springs.plugin import SpringsParams, SpringsPlugin

__all__ = ["SpringsParams", "SpringsPlugin"]
