"""Inputs derived from a piece of art, for paired translation when only the art exists.

``artforge prepare pairs SRC --derive METHOD`` makes each pair (derived input, the art), computed on
the art after it is fitted to the output size, so strokes and blur scale with the dataset:

edges   black Sobel edges on white (the gradient magnitude of the luminance above its 90th percentile)
xdog    an XDoG line drawing (Winnemoeller 2011): a difference of Gaussians soft-thresholded to
        ink on the dark side of every edge, paper elsewhere
blur    a blurred colour layout (Gaussian, sigma 1/24 of the shorter side): where the colours go
gray    the luminance, for colorization

Each returns an image of the art's size and mode, so both halves of a pair share one layout.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

METHODS = ("edges", "xdog", "blur", "gray")


def _luminance(art: Image.Image) -> np.ndarray:
    return np.asarray(art.convert("L"), dtype=np.float64) / 255.0


def _as_mode(gray: np.ndarray, mode: str) -> Image.Image:
    im = Image.fromarray(np.clip(gray * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    return im if mode == "L" else im.convert(mode)


def edges(art: Image.Image) -> Image.Image:
    from scipy import ndimage

    lum = _luminance(art)
    magnitude = np.hypot(ndimage.sobel(lum, axis=0), ndimage.sobel(lum, axis=1))
    threshold = max(np.percentile(magnitude, 90), 1e-6)
    return _as_mode(np.where(magnitude > threshold, 0.0, 1.0), art.mode)


def xdog(art: Image.Image, sigma: float | None = None, k: float = 1.6, tau: float = 0.98,
         epsilon: float = -0.02, phi: float = 100.0) -> Image.Image:
    """XDoG (Winnemoeller 2011): D = G_sigma - tau G_(k sigma) of the luminance in [0, 1]; paper where
    D >= epsilon, else ink through 1 + tanh(phi (D - epsilon)). Flat areas, dark or light, give
    D = (1 - tau) L >= 0: paper; the dark side of every edge gives ink: a line drawing."""
    from scipy import ndimage

    lum = _luminance(art)
    sigma = sigma if sigma is not None else max(0.5, min(art.size) / 128)
    dog = ndimage.gaussian_filter(lum, sigma) - tau * ndimage.gaussian_filter(lum, k * sigma)
    out = np.where(dog >= epsilon, 1.0, 1.0 + np.tanh(phi * (dog - epsilon)))
    return _as_mode(np.clip(out, 0.0, 1.0), art.mode)


def blur(art: Image.Image) -> Image.Image:
    return art.filter(ImageFilter.GaussianBlur(min(art.size) / 24))


def gray(art: Image.Image) -> Image.Image:
    return art.convert("L").convert(art.mode)


DERIVATIONS = {"edges": edges, "xdog": xdog, "blur": blur, "gray": gray}


def derive(art: Image.Image, method: str) -> Image.Image:
    if method not in DERIVATIONS:
        raise ValueError(f"unknown derivation {method!r}; known: {', '.join(METHODS)}")
    return DERIVATIONS[method](art)


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    """One image holding a pair: input on the left, target on the right (pix2pix's own layout)."""
    if left.size != right.size or left.mode != right.mode:
        raise ValueError(f"the two sides differ: {left.size} {left.mode} and {right.size} {right.mode}")
    pair = Image.new(left.mode, (2 * left.width, left.height))
    pair.paste(left, (0, 0))
    pair.paste(right, (left.width, 0))
    return pair


def halves(pair: Image.Image) -> tuple[Image.Image, Image.Image]:
    """A side-by-side image split into its left and right halves (an odd middle column is dropped)."""
    half = pair.width // 2
    return pair.crop((0, 0, half, pair.height)), pair.crop((pair.width - half, 0, pair.width, pair.height))
