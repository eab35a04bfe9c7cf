"""Tensor operations that tasks and inference share: an image history pool, tiled inference, degradations."""
