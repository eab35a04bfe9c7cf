"""Per-image work of ``artforge prepare``: decode, check, convert, fit, resize, encode.

Runs in pool worker processes, so it is plain functions and small picklable records. Every failure
becomes a ``Reject`` with a one-line reason for the rejects report; nothing here stops a run.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
import os
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import numpy as np
from PIL import Image, ImageColor, ImageOps, UnidentifiedImageError

from ..aspect import aspect_shape, parse_aspect
from .builtin import BUILTINS, RenderSkip
from .derive import derive, halves, side_by_side

PIL_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "DIB", "TIFF")  # JPEG includes multi-picture MPO
FORMAT_NAMES = "PNG, JPEG, WebP, GIF, BMP or TIFF"
REDUCING_GAP = 3.0  # Pillow: resize in two steps when shrinking by more than this; looks identical
RESAMPLE = {"lanczos": Image.Resampling.LANCZOS, "bicubic": Image.Resampling.BICUBIC,
            "bilinear": Image.Resampling.BILINEAR, "box": Image.Resampling.BOX}



class Reject(Exception):
    """This file cannot be used; args[0] is the reason for the report."""


@dataclass(frozen=True)
class ImageOptions:
    """The per-image settings, small and picklable for the worker processes."""

    width: int  # of the output images
    height: int
    fit: str
    gray: bool
    fill: tuple[int, ...] | int  # background colour in the output mode
    resample: int
    min_size: int
    max_pixels: int
    max_bytes: int

    @classmethod
    def build(cls, *, size: int, aspect: str, fit: str, color: str, background: str, resample: str, min_size: int,
              max_pixels: int) -> "ImageOptions":
        """From the prepare options' values (names as in ``PrepareConfig``; ingest passes them)."""
        gray = color == "gray"
        height, width = aspect_shape(size, parse_aspect(aspect))
        # Cap on bytes read per file: an uncompressed 16-bit RGB image at max_pixels, plus slack.
        return cls(width=width, height=height, fit=fit, gray=gray, fill=ImageColor.getcolor(background, "L" if gray else "RGB"),
                   resample=RESAMPLE[resample], min_size=min_size, max_pixels=max_pixels,
                   max_bytes=max_pixels * 6 + (16 << 20))

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as Pillow takes sizes."""
        return self.width, self.height

    @property
    def mode(self) -> str:
        return "L" if self.gray else "RGB"


@dataclass
class Outcome:
    """A worker's answer: a reason, or the output file (a PNG; a WAV for sounds) with its hashes and pixel sums."""

    reason: str | None = None
    src_hash: str = ""
    pixel_hash: str = ""
    data: bytes = b""
    sums: tuple[int, ...] = ()  # per channel, of 0..255 values: exact, so mean/std stream exactly
    squares: tuple[int, ...] = ()


def digest(*chunks: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()


class Processor:
    """Turns one task into an ``Outcome``; keeps zip handles open between tasks."""

    def __init__(self, opts: ImageOptions):
        self.opts = opts
        self._zips: dict[str, zipfile.ZipFile] = {}

    def close(self) -> None:
        for zf in self._zips.values():
            zf.close()
        self._zips.clear()

    def __call__(self, task: tuple) -> Outcome:
        try:
            return self._process(task)
        except Reject as reject:
            return Outcome(reason=str(reject.args[0]))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            return Outcome(reason=f"too many pixels (decompression bomb?): {exc}")
        except Exception as exc:  # one odd file must not end a run over 100k files
            return Outcome(reason=f"could not be processed ({type(exc).__name__}: {exc})")

    def _process(self, task: tuple) -> Outcome:
        """One image, or one pair side by side: ('pair', task_a, task_b) two files; ('derive', method,
        task) an input derived from the art; ('halves', task) a side-by-side file; a paired built-in."""
        if task[0] == "pair":
            (a, hash_a), (b, hash_b) = self._decoded(task[1]), self._decoded(task[2])
            return _encode(side_by_side(_to_output(a, self.opts), _to_output(b, self.opts)),
                           digest(hash_a.encode(), hash_b.encode()))
        if task[0] == "derive":
            art, src_hash = self._decoded(task[2])
            target = _to_output(art, self.opts)
            return _encode(side_by_side(derive(target, task[1]), target), digest(src_hash.encode(), task[1].encode()))
        if task[0] == "halves":
            image, src_hash = self._decoded(task[1])
            if image.width < 2 * self.opts.min_size:
                raise Reject(f"too narrow to hold two images side by side ({image.width} px)")
            a, b = halves(image)
            return _encode(side_by_side(_to_output(a, self.opts), _to_output(b, self.opts)), src_hash)
        im, src_hash = self._decoded(task)
        if isinstance(im, tuple):  # a paired built-in renders (input, target)
            return _encode(side_by_side(*(_to_output(side, self.opts) for side in im)), src_hash)
        return _encode(_to_output(im, self.opts), src_hash)

    def _decoded(self, task: tuple) -> tuple:
        """(decoded image, or a paired built-in's two, and the source's hash)."""
        if task[0] == "builtin":
            try:
                im = BUILTINS[task[1]].render(task[2])
            except RenderSkip as skip:
                raise Reject(skip.reason) from None
            sides = im if isinstance(im, tuple) else (im,)
            return im, digest(*(c for side in sides for c in (side.mode.encode(), repr(side.size).encode(),
                                                                side.tobytes())))
        data = self._read_file(task[1]) if task[0] == "file" else self._read_member(task[1], task[2])
        return _decode(data, self.opts), digest(data)

    def _too_large(self, size: int) -> Reject:
        return Reject(f"file too large: {size / 2**20:,.0f} MiB (the cap for --max-pixels "
                       f"{self.opts.max_pixels:,} is {self.opts.max_bytes / 2**20:,.0f} MiB)")

    def _read_file(self, path: str) -> bytes:
        """The whole file, opened read-only."""
        try:
            size = os.stat(path).st_size
            if size > self.opts.max_bytes:
                raise self._too_large(size)
            with open(path, "rb") as f:
                data = f.read(self.opts.max_bytes + 1)
        except PermissionError:
            raise Reject("unreadable: permission denied") from None
        except OSError as exc:
            raise Reject(f"unreadable: {exc.strerror or exc}") from None
        if len(data) > self.opts.max_bytes:  # it grew while we read it
            raise self._too_large(len(data))
        return data

    def _read_member(self, path: str, index: int) -> bytes:
        """One zip member, in memory, read no further than the byte cap (headers can lie)."""
        zf = self._zips.get(path)
        if zf is None:
            zf = self._zips[path] = zipfile.ZipFile(path)
        info = zf.infolist()[index]
        if info.file_size > self.opts.max_bytes:
            raise self._too_large(info.file_size)
        try:
            with zf.open(info) as f:
                data = f.read(self.opts.max_bytes + 1)
        except zipfile.BadZipFile as exc:
            raise Reject(f"corrupt zip member ({exc})") from None
        except NotImplementedError as exc:
            raise Reject(f"unsupported zip compression ({exc})") from None
        except RuntimeError as exc:  # encrypted
            raise Reject(f"unreadable zip member ({exc})") from None
        if len(data) > self.opts.max_bytes:
            raise self._too_large(len(data))
        return data


def _decode(data: bytes, opts: ImageOptions) -> Image.Image:
    """Open and fully load an image, checking size limits before any pixel is decoded."""
    if not data:
        raise Reject("empty file (0 bytes)")
    try:
        im = Image.open(io.BytesIO(data), formats=PIL_FORMATS)
    except UnidentifiedImageError:
        raise Reject(f"not an image: the content is not {FORMAT_NAMES}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise
    except Exception as exc:
        raise Reject(f"corrupt: {exc}") from None
    width, height = im.size
    if width * height > opts.max_pixels:
        raise Reject(f"too many pixels: {width}x{height} is more than --max-pixels {opts.max_pixels:,} "
                      "(a decompression bomb?)")
    if min(width, height) < opts.min_size:
        raise Reject(f"too small: {width}x{height}, shorter side below --min-size {opts.min_size}")
    _draft(im, opts)
    try:
        im.load()
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError, ...
        raise Reject(f"truncated or corrupt: {exc}") from None
    return im


def _draft(im: Image.Image, opts: ImageOptions) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that keeps REDUCING_GAP x the output size.

    Several times faster on camera photos, and the same result as a full decode after the resize.
    """
    if im.format not in ("JPEG", "MPO"):
        return
    width, height = im.size
    sx, sy = _fit_scale(im.size, opts)  # output pixels per source pixel, per axis
    if max(sx, sy) * REDUCING_GAP * 2 > 1:
        return  # even 1/2 scale would leave fewer than REDUCING_GAP source pixels per output pixel
    im.draft(None, (math.ceil(width * sx * REDUCING_GAP), math.ceil(height * sy * REDUCING_GAP)))


def _fit_scale(size: tuple[int, int], opts: ImageOptions) -> tuple[float, float]:
    """(x, y) output pixels per source pixel once the image is fitted: crop fills the output, pad fits inside it."""
    sx, sy = opts.width / size[0], opts.height / size[1]
    if opts.fit == "stretch":
        return sx, sy
    scale = max(sx, sy) if opts.fit == "crop" else min(sx, sy)
    return scale, scale


def _to_output(im: Image.Image, opts: ImageOptions) -> Image.Image:
    """Decoded image -> output image: orientation, colour, transparency, fit and size."""
    return _fit(_upright_srgb(im, opts), opts)


def _upright_srgb(im: Image.Image, opts: ImageOptions) -> Image.Image:
    """Decoded image -> upright (EXIF), sRGB, in the output mode, transparency composited; its own size."""
    icc = im.info.get("icc_profile")
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except Exception:  # a malformed EXIF block does not make the pixels unusable
        pass
    color, alpha = _color_and_alpha(im)
    return _flatten(_to_srgb(color, icc), alpha, opts)


def _color_and_alpha(im: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Split any Pillow mode into 8-bit colour (RGB, L or CMYK) and an optional 8-bit alpha."""
    mode = im.mode
    if mode.startswith("I"):  # I;16, I;16B, I;16L, I;16N, I
        return _sixteen_bit_to_l(im), None
    if mode == "F":
        return _float_to_l(im), None
    if mode in ("RGBa", "La"):  # premultiplied alpha
        im = im.convert(mode.upper())
    elif mode == "PA" or (mode in ("P", "L", "RGB", "1") and "transparency" in im.info):
        im = im.convert("RGBA")  # palette or colour-key transparency becomes an alpha channel
    elif mode == "P":
        im = im.convert("RGB")
    elif mode == "1":
        im = im.convert("L")
    if im.mode in ("RGBA", "LA"):
        return im.convert(im.mode[:-1]), im.getchannel("A")
    if im.mode in ("RGB", "L", "CMYK"):
        return im, None
    try:
        return im.convert("RGB"), None  # YCbCr, HSV, RGBX, ...
    except ValueError:
        raise Reject(f"unsupported colour mode {mode}") from None


def _sixteen_bit_to_l(im: Image.Image) -> Image.Image:
    """16-bit grey to 8-bit by rounding v / 257 (65535 -> 255), where Pillow would clip at 255.

    Mode "I" (32-bit) is read as 16-bit data too: it is what 16-bit PNG and TIFF decode to.
    """
    arr = np.clip(np.asarray(im).astype(np.int64), 0, 65535)
    return Image.fromarray(((arr * 255 + 32767) // 65535).astype(np.uint8), "L")


def _float_to_l(im: Image.Image) -> Image.Image:
    """Float grey: [0, 1] data is scaled by 255, anything else is clipped to [0, 255]."""
    arr = np.nan_to_num(np.asarray(im, dtype=np.float64), nan=0.0, posinf=255.0, neginf=0.0)
    if arr.size and arr.min() >= 0 and arr.max() <= 1:
        arr = arr * 255
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L")


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Apply an embedded ICC profile (to sRGB) when LittleCMS can; else a plain conversion."""
    if icc:
        transform = _icc_transform(icc, im.mode)
        if transform is not None:
            from PIL import ImageCms
            try:
                return ImageCms.applyTransform(im, transform)
            except (ImageCms.PyCMSError, ValueError, OSError):
                pass
    return im if im.mode in ("RGB", "L") else im.convert("RGB")


@lru_cache(maxsize=16)  # photo collections share a handful of profiles
def _icc_transform(icc: bytes, mode: str):
    """A cached ``profile -> sRGB`` transform, or None (no LittleCMS, bad profile, already sRGB)."""
    try:
        from PIL import ImageCms
    except ImportError:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if mode == "RGB" and "srgb" in ImageCms.getProfileDescription(profile).lower():
            return None
        return ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), mode, "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a profile that does not fit the pixels: use them as they are


def _flatten(color: Image.Image, alpha: Image.Image | None, opts: ImageOptions) -> Image.Image:
    """Output mode, with transparency composited over the background colour."""
    if color.mode != opts.mode:
        color = color.convert(opts.mode)
    if alpha is not None and alpha.getextrema()[0] < 255:
        color = Image.composite(color, Image.new(opts.mode, color.size, opts.fill), alpha)
    return color


def _fit(im: Image.Image, opts: ImageOptions) -> Image.Image:
    """``width`` x ``height`` image by centre crop to the aspect, padding or stretching."""
    out, (width, height) = opts.size, im.size
    resize = dict(resample=opts.resample, reducing_gap=REDUCING_GAP)
    if opts.fit == "crop":
        box = _crop_box(im.size, out)
        if box != (0, 0, width, height):
            # crop first: resize(box=...) would let the filter reach pixels outside the kept part
            im = im.crop(box)
        return im if im.size == out else im.resize(out, **resize)
    if opts.fit == "stretch":
        return im if im.size == out else im.resize(out, **resize)
    scale = _fit_scale(im.size, opts)[0]  # pad
    new = (min(out[0], max(1, round(width * scale))), min(out[1], max(1, round(height * scale))))
    if new != im.size:
        im = im.resize(new, **resize)
    canvas = Image.new(opts.mode, out, opts.fill)
    canvas.paste(im, ((out[0] - new[0]) // 2, (out[1] - new[1]) // 2))
    return canvas


def _crop_box(size: tuple[int, int], out: tuple[int, int]) -> tuple[int, int, int, int]:
    """The centred part of an image of ``size`` with the aspect of ``out`` (both (width, height)), as large as fits."""
    width, height = size
    if width * out[1] > height * out[0]:  # wider than the output: keep the full height
        w, h = max(1, round(height * out[0] / out[1])), height
    else:
        w, h = width, max(1, round(width * out[1] / out[0]))
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


def _encode(im: Image.Image, src_hash: str) -> Outcome:
    """PNG bytes plus the pixel hash and per-channel sums of the output image."""
    pixels = np.asarray(im, dtype=np.uint8)
    flat = pixels.reshape(-1, 1 if pixels.ndim == 2 else pixels.shape[2]).astype(np.int64)
    im.info.clear()  # no source metadata (an ICC profile we already applied, EXIF) in the output
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return Outcome(src_hash=src_hash, pixel_hash=digest(pixels.tobytes()), data=buf.getvalue(),
                    sums=tuple(int(v) for v in flat.sum(0)),
                    squares=tuple(int(v) for v in (flat * flat).sum(0)))


# ----------------------------------------------------------------------------- running the workers

_WORKER: Processor | None = None  # set in pool worker processes only


def pool_init(opts: ImageOptions) -> None:
    global _WORKER
    Image.MAX_IMAGE_PIXELS = None  # this worker process only: _decode checks --max-pixels itself
    _WORKER = Processor(opts)


def pool_run(task: tuple) -> Outcome:
    return _WORKER(task)


@contextlib.contextmanager
def pillow_pixel_limit_off() -> Iterator[None]:
    """Inline runs: Pillow's own bomb check off (``_decode`` applies --max-pixels), then restored."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def decode_native(data: bytes, gray: bool = False, background: str = "white",
                  max_pixels: int = 89_478_485) -> np.ndarray:
    """An image file's bytes -> uint8 (H, W, C) at its own size: decoded, oriented, sRGB, transparency
    composited over ``background``; raises ``Reject`` with the reason for a file prepare would set aside."""
    opts = ImageOptions.build(size=64, aspect="1:1", fit="crop", color="gray" if gray else "rgb",
                              background=background, resample="lanczos", min_size=1, max_pixels=max_pixels)
    with pillow_pixel_limit_off():
        array = np.asarray(_upright_srgb(_decode(data, opts), opts))
    return array[:, :, None] if array.ndim == 2 else array
