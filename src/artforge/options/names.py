"""The names a registry offers, for option choices and checks, from the torch-free catalog (catalog.py):
``--help`` and validation must not import torch. (Kept apart from fields.py because the catalog reads the
family options in families.py, which use fields.py.)"""

from __future__ import annotations


def registry(kind: str) -> tuple[str, ...]:
    """A registry's names ("arch", "loss", "recipe", "filter", "d_augment", "augment")."""
    from .catalog import NAMES
    return NAMES[kind]
