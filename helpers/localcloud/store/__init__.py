"""See the package docstring of helpers.localcloud."""
