"""Build the optional native raster walker; everything else is in pyproject.toml.

``optional=True``: without a C compiler the install still succeeds and
ippproxy.filters.raster falls back to its pure-Python walker (the test suite
insists on the native one, so ``make test`` installs gcc and python3-dev).
"""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("ippproxy.filters._rasterwalk", ["ippproxy/filters/_rasterwalk.c"],
              extra_compile_args=["-O2", "-Wall", "-Wextra"], optional=True),
])
