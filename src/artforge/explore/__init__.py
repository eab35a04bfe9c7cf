"""Creative control of a style-based model: style mixing, interpolation videos, projection of real
images, palette and layout control. Each action is a module here with a function of a loaded model
(``artforge.load(RUN)``) and a config-driven entry point that ``artforge explore ACTION`` calls.
"""
