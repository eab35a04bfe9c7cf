"""The run layer: a run folder's layout (rundir.py), its checkpoints and their migrations, its log (monitor.py).

Below the engine, which writes runs, and the inference and commands that read them.
"""
