"""Labels, subset and split of the kept items (``artforge prepare``'s third step).

Labels (``--labels``): ``folders``: the first-level subfolder of each item names its class. ``auto``:
folders when every usable item sits in one of two or more subfolders, else none. ``none``: no labels.
Classes are the folders with at least one usable item, sorted by name; their position is the label index.

Subset and split (both seeded, and independent of file system order and file names): ``--subset f``
keeps round(f * n) items per class (at least one) chosen by a hash of (seed, content). Then the kept
items are ordered by a hash of (seed, content hash): the first round(n * val) go to val, the next
round(n * test) to test, the rest to train (at least one).
"""

from __future__ import annotations

from .collect import Kept
from .imaging import digest

SPLITS = ("train", "val", "test")


def rank(seed: int, purpose: str, src_hash: str) -> str:
    """Seeded sort key from an image's content: the order ignores names and file system order."""
    return digest(f"{purpose}:{seed}:{src_hash}".encode())


def assign_labels(mode: str, kept: list[Kept]) -> list[str]:
    """Label names (sorted folder names) and each image's label index, or [] for no labels."""
    folders = {k.folder for k in kept}
    use = mode == "folders" or (mode == "auto" and None not in folders and len(folders) >= 2)
    if not use:
        return []
    names = sorted(f for f in folders if f is not None)
    index = {name: i for i, name in enumerate(names)}
    for k in kept:
        k.label = index[k.folder]
    return names


def take_subset(kept: list[Kept], fraction: float, seed: int) -> list[Kept]:
    """round(fraction * n) images of each class (at least one), chosen by seeded content hash."""
    if fraction >= 1:
        return kept
    by_label: dict[int | None, list[int]] = {}
    for i, k in enumerate(kept):
        by_label.setdefault(k.label, []).append(i)
    chosen: set[int] = set()
    for members in by_label.values():
        members.sort(key=lambda i: rank(seed, "subset", kept[i].src_hash))
        chosen.update(members[:max(1, round(len(members) * fraction))])
    return [k for i, k in enumerate(kept) if i in chosen]


def split_counts(n: int, fractions: tuple) -> tuple[int, int]:
    """Exact (val, test) counts: round(n * fraction), leaving at least one training image."""
    n_val, n_test = round(n * fractions[1]), round(n * fractions[2])
    while n_val + n_test >= n and n_val + n_test > 0:
        if n_test >= n_val:
            n_test -= 1
        else:
            n_val -= 1
    return n_val, n_test


def assign_splits(kept: list[Kept], fractions: tuple, seed: int) -> None:
    n_val, n_test = split_counts(len(kept), fractions)
    order = sorted(range(len(kept)), key=lambda i: rank(seed, "split", kept[i].src_hash))
    for position, i in enumerate(order):
        kept[i].split = "val" if position < n_val else "test" if position < n_val + n_test else "train"
