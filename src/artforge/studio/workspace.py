"""The studio's workspace: one folder; every path a request names is resolved here or refused.

The web UIs' incidents came from paths: Gradio's ``/file=`` with ``../`` segments (CVE-2023-51449),
encoded and double-encoded variants of the same, symlinks that point out. ``Workspace.resolve`` takes
the path as the request gives it, decodes it until it stops changing (so ``%252e%252e`` cannot hide
``..``), refuses absolute paths, drive letters, backslashes, NUL and ``..`` segments before touching
the disk, and then checks that the real path (symlinks followed) is still inside the workspace.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

from ..errors import UsageError

MAX_DECODES = 5  # more nested percent-encodings than this is not a path anyone typed
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


class OutsideWorkspace(UsageError):
    """A path that would leave the workspace (or is not a plain relative path)."""


def _decoded(text: str) -> str:
    for _ in range(MAX_DECODES):
        once = unquote(text)
        if once == text:
            return text
        text = once
    raise OutsideWorkspace(f"path {text!r} is encoded more than {MAX_DECODES} times", "pass a plain relative path")


def safe_name(name: str, default: str = "file") -> str:
    """A file name for something a person uploaded: its last component, normalized, with only letters,
    digits, dot, dash, underscore and space kept; never empty, never hidden, never '.' or '..'."""
    base = unicodedata.normalize("NFKC", str(name)).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")
    return cleaned[:120] or default


class Workspace:
    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser().resolve()

    def resolve(self, relative: str) -> Path:
        """The file ``relative`` names inside the workspace; ``OutsideWorkspace`` for any way out."""
        text = _decoded(str(relative))
        if "\x00" in text or "\\" in text:
            raise OutsideWorkspace(f"path {relative!r} holds a NUL or a backslash", "pass a plain relative path")
        if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", text):
            raise OutsideWorkspace(f"path {relative!r} is absolute", "pass a path relative to the workspace")
        parts = [p for p in text.split("/") if p not in ("", ".")]
        if any(p == ".." for p in parts):
            raise OutsideWorkspace(f"path {relative!r} leaves the workspace", "pass a path inside it")
        target = self.root.joinpath(*parts).resolve()  # symlinks followed
        if target != self.root and self.root not in target.parents:
            raise OutsideWorkspace(f"path {relative!r} points outside the workspace (through a link)",
                                   "pass a path inside it")
        return target

    def relative(self, path: Path) -> str:
        """How the pages name a workspace file (the inverse of ``resolve``)."""
        return Path(path).resolve().relative_to(self.root).as_posix()
