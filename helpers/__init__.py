"""The OSS direct-upload workbook's Python package. Importing it has no side effects."""

__version__ = "0.1.0"
