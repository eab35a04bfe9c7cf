"""The package version, in a module of its own: every layer may import it (run records, checkpoints,
exports, results) without importing the package's API facade in ``artforge/__init__.py``."""

__version__ = "0.1.0"
