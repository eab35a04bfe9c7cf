"""Tasks: what a training step is made of (base.py); one file per task."""
