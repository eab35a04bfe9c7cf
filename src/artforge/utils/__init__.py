"""Small shared helpers: atomic file writes, devices and precision, image grids."""
