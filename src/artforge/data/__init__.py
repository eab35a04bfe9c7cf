"""Data: preparing folders of art into datasets, reading them, loading batches, augmenting."""
