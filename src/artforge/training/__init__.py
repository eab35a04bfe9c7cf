"""The engine: the step machinery (steps.py), the loop that runs it (engine.py), many processes, health checks."""
