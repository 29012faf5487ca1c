"""Marks the wheel platform-specific when it bundles liborderbase.so (make python-wheel);
without a bundled library the package is pure Python. Metadata is in pyproject.toml."""
import os

from setuptools import setup
from setuptools.dist import Distribution

BUNDLED = os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "src", "orderbase", "lib", "liborderbase.so"))


class MaybeBinaryDistribution(Distribution):
    def has_ext_modules(self):
        return BUNDLED


setup(distclass=MaybeBinaryDistribution)
