"""A run's sampler network (its family's ``sampler``: ``G_ema``) as a checkpoint holds it.

Inference loads it (translating.py), and so does a run that starts from another run's weights (sr's
``--init``, tasks/setups.py): it lives here, below both, so that a set-up need not import inference.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CheckpointError
from ..models.registry import get_family, sampler_weights
from . import checkpoint as ckpt


def load_sampler_weights(path: Path, device="cpu") -> tuple[dict, dict, int]:
    """(state, the weights of its family's sampler, step) of the checkpoint folder ``path``."""
    loaded = ckpt.load_checkpoint(path, device=device, training=False)
    state = loaded["state"]
    return state, sampler_weights(state.get("family"), loaded["models"]), loaded["step"]


def build_sampler(path: Path, state: dict, weights: dict):
    """(family, model config, sampler network holding ``weights``) of the checkpoint ``path`` with ``state``."""
    family = get_family(state["family"])
    try:
        model_cfg = family.config(**state["model_config"])
        G = family.generator(model_cfg)
        G.load_state_dict(weights)
    except (TypeError, KeyError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint {path} does not match its family ({' '.join(str(exc).split())[:120]})",
                              "use the artforge version that wrote it, or another checkpoint") from None
    return family, model_cfg, G
