"""Training: the phases of a step, the loop that runs them, checkpoints, monitoring, health checks."""
