"""Run by tests/test_distributed.py under torchrun (or alone): train a tiny model, save the weights.

python dist_worker.py toy OUT STEPS        the toy family and task on the engine, no run folder
python dist_worker.py dcgan OUT STEPS DS   an image run through artforge.train (rank 0 writes RUN under OUT)
Each process writes OUT/rank<r>.safetensors with its networks' parameters after training.
"""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file


def toy(steps: int):
    from artforge.options import TrainConfig
    from artforge.models.registry import get_family
    from artforge.models.toy_mlp import ToyConfig
    from artforge.tasks.toy import MIXTURES, ToyTask
    from artforge.training.distributed import from_environment
    from artforge.training.engine import Engine

    dist = from_environment()
    cfg = TrainConfig(dataset="toy-ring", recipe="stable", batch=16, d_augment=(), augment=(), ada_target=0.0,
                      seed=3, steps=steps, device="cpu", precision="fp32", progress=False, tensorboard=False,
                      self_cond=0, r1_gamma=0.1, r1_interval=2).resolved()
    parts = cfg.sections()
    task = ToyTask(parts, MIXTURES["ring"], 0)
    engine = Engine(parts, get_family("toy"), ToyConfig(hidden=16), task, run_dir=None, dist=dist)
    engine.run()
    return dist, engine.all_nets()


def dcgan(steps: int, out: Path, dataset: str):
    import artforge
    from artforge.commands import trainer
    from artforge.training.distributed import from_environment

    captured = {}
    original = trainer.Trainer.run

    def run(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        captured["nets"] = self.all_nets()
        return result

    trainer.Trainer.run = run
    artforge.train(dataset, out=str(out / "runs"), steps=steps, batch=8, width=8, z_dim=16, tick=2,
                   checkpoint_every=4, eval_images=16, progress=False, tensorboard=False, device="cpu",
                   self_cond_min_images=64)
    return from_environment(), captured["nets"]


if __name__ == "__main__":
    torch.set_num_threads(1)
    kind, out, steps = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    dist, nets = toy(steps) if kind == "toy" else dcgan(steps, out, sys.argv[4])
    params = {f"{name}.{k}": p.detach().contiguous() for name, net in nets.items()
              for k, p in net.named_parameters()}
    out.mkdir(parents=True, exist_ok=True)
    save_file(params, str(out / f"rank{dist.rank}.safetensors"))
