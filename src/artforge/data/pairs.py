"""Pairs for the image-to-image tasks (``artforge prepare --pairs``): which items make one (input, target) pair.

Each pair becomes one image of two sides side by side. The pairs come from inputs derived from the art
(``--derive``), a built-in set of pairs, two subfolders matched by file name (``--sides``, or guessed
from their names), or side-by-side images halved.
"""

from __future__ import annotations

import os

from ..errors import DataError
from .scan import Item, Source

# Subfolder names taken for the input side when --sides is not given (the other is the target).
INPUT_NAMES = frozenset({"a", "in", "input", "inputs", "src", "source", "line", "lines", "lineart", "line-art",
                         "line_art", "sketch", "sketches", "drawing", "drawings", "edges", "lr", "low"})


def pair_items(cfg, source: Source, items: list[Item], builtin) -> tuple[list[Item], dict]:
    """Items that each make one (input, target) pair, and what the pairs are (for the manifest); ``cfg`` is
    the prepare options (``derive``, ``sides``)."""
    if cfg.derive:
        return ([Item(i.name, None, ("derive", cfg.derive, i.task)) for i in items],
                {"input": cfg.derive, "target": "art", "made_from": "inputs derived from the art"})
    if builtin is not None:
        if not builtin.pair:
            raise DataError(f"the built-in {source.name} holds single images, not pairs",
                            "pass --derive edges|xdog|blur|gray to make inputs from them, or use openmoji-pairs")
        return items, {"input": builtin.pair[0], "target": builtin.pair[1], "made_from": "built-in pairs"}
    folders = sorted({i.folder for i in items if i.folder is not None})
    if cfg.sides is None and not folders:
        return ([Item(i.name, None, ("halves", i.task)) for i in items],
                {"input": "left half", "target": "right half", "made_from": "side-by-side images"})
    sides = cfg.sides or _guess_sides(source, folders)
    for side in sides:
        if side not in folders:
            raise DataError(f"{source.origin} has no subfolder {side!r} with images",
                            f"its subfolders: {', '.join(folders) or 'none'}; pass --sides INPUT,TARGET")
    by_side: dict[str, dict[str, Item]] = {side: {} for side in sides}
    for item in items:
        if item.folder not in by_side:
            source.rejects.append({"file": item.name, "reason": f"not in {sides[0]}/ or {sides[1]}/"})
            continue
        key = os.path.splitext(item.name[len(item.folder) + 1:])[0]
        if key in by_side[item.folder]:
            source.rejects.append({"file": item.name, "reason": "another file in its folder has the same name"})
        else:
            by_side[item.folder][key] = item
    inputs, targets = by_side[sides[0]], by_side[sides[1]]
    for this, other, name in ((inputs, targets, sides[1]), (targets, inputs, sides[0])):
        source.rejects.extend({"file": item.name, "reason": f"no file of the same name in {name}/"}
                              for key, item in sorted(this.items()) if key not in other)
    paired = [Item(f"{inputs[k].name} + {targets[k].name}", None, ("pair", inputs[k].task, targets[k].task))
              for k in sorted(inputs) if k in targets]
    return paired, {"input": sides[0], "target": sides[1], "made_from": "two folders, matched by file name"}


def _guess_sides(source: Source, folders: list[str]) -> tuple[str, str]:
    if len(folders) != 2:
        raise DataError(f"{source.origin} has {len(folders)} subfolders ({', '.join(folders[:6])}); a pair needs "
                        "an input folder and a target folder", "pass --sides INPUT,TARGET")
    a, b = folders
    return (b, a) if b.lower() in INPUT_NAMES and a.lower() not in INPUT_NAMES else (a, b)
