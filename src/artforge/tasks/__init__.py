"""Tasks: what a training step is made of (one file per task, on training/steps.py's ``Task``), their set-ups."""
