"""--task sr on the engine: the fidelity model, the GAN model started from it, exact resume, tiled upscaling."""

import json

import pytest
import torch

import artforge
from artforge.errors import UsageError
from artforge.models.esrgan import ESRGANConfig, RRDBNet
from artforge.ops.tiling import tiled
from artforge.options.translation import SROptions
from artforge.runs import checkpoint as ckpt
from artforge.runs.monitor import read_log

OPTS = dict(task="sr", batch=2, width=4, blocks=1, crop=32, scale=4, tick=1, checkpoint_every=100, progress=False,
            tensorboard=False, device="cpu")


@pytest.fixture(scope="module")
def fidelity_run(blob_dataset, tmp_path_factory):
    return artforge.train(blob_dataset, out=tmp_path_factory.mktemp("sr"), steps=4, gan_weight=0.0, **OPTS)


def _log(run_dir, key):
    rows, _ = read_log(run_dir / "log.jsonl")
    return [r[key] for r in rows if key in r]


def test_the_fidelity_model_trains_g_alone_on_l1(fidelity_run):
    assert fidelity_run.run_dir.name.endswith("-sr-x4-fidelity")
    loaded = ckpt.load_checkpoint(fidelity_run.checkpoint)
    state = loaded["state"]
    assert state["family"] == "esrgan" and state["task"] == "sr" and state["best"]["metric"] == "l1"
    assert _log(fidelity_run.run_dir, "Loss/L1") and not _log(fidelity_run.run_dir, "Loss/D")
    options = json.loads((fidelity_run.run_dir / "options.json").read_text())
    assert options["train"]["recipe"] == "esrgan" and options["train"]["beta1"] == 0.9
    assert options["model"]["scale"] == 4 and options["model"]["blocks"] == 1


def test_the_gan_model_starts_from_the_fidelity_model_and_resumes_exactly(blob_dataset, fidelity_run, tmp_path,
                                                                           monkeypatch):
    from artforge.training.engine import Engine
    start = artforge.train(blob_dataset, out=tmp_path / "s", steps=1, init=str(fidelity_run.run_dir),
                           **{**OPTS, "lr_g": 1e-12})
    fid = ckpt.load_checkpoint(ckpt.resolve_checkpoint(fidelity_run.run_dir, "best"))["models"]["G_ema"]
    begun = ckpt.load_checkpoint(start.checkpoint)["models"]["G"]
    assert all(torch.allclose(fid[k], begun[k], atol=1e-6) for k in fid)  # one step at lr 1e-12: unchanged
    assert start.run_dir.name.endswith("-sr-x4-gan")
    full = artforge.train(blob_dataset, out=tmp_path / "a", steps=4, init=str(fidelity_run.run_dir), **OPTS)
    best = json.loads((full.checkpoint / ckpt.STATE_FILE).read_text())["best"]
    assert best["metric"] == "swd"  # a sharper GAN output has a larger L1: texture statistics pick its best
    for key in ("Loss/D", "Loss/G_adv", "Loss/features", "Loss/L1"):
        assert _log(full.run_dir, key), key
    with monkeypatch.context() as m:
        m.setattr(Engine, "_done", lambda self, started: self.step >= 2)
        part = artforge.train(blob_dataset, out=tmp_path / "b", steps=4, init=str(fidelity_run.run_dir), **OPTS)
    resumed = artforge.train(resume=part.run_dir, steps=4)
    assert _log(part.run_dir, "Loss/G") == _log(full.run_dir, "Loss/G")
    wa = ckpt.load_checkpoint(full.checkpoint)["models"]
    wb = ckpt.load_checkpoint(resumed.checkpoint)["models"]
    assert all(torch.equal(wa[net][k], wb[net][k]) for net in ("G", "D", "G_ema") for k in wa[net])


def test_sr_refuses_crops_and_starting_points_that_do_not_fit(blob_dataset, fidelity_run, tmp_path):
    with pytest.raises(UsageError, match="--crop 64 is larger than"):
        artforge.train(blob_dataset, out=tmp_path, steps=1, **{**OPTS, "crop": 64})
    with pytest.raises(UsageError, match="not a multiple of --scale"):
        artforge.train(blob_dataset, out=tmp_path, steps=1, **{**OPTS, "crop": 30})
    with pytest.raises(UsageError, match="of other sizes"):
        artforge.train(blob_dataset, out=tmp_path, steps=1, init=str(fidelity_run.run_dir), **{**OPTS, "width": 8})
    with pytest.raises(UsageError, match="--vgg-weights .* does not exist"):
        artforge.train(blob_dataset, out=tmp_path, steps=1, vgg_weights=str(tmp_path / "vgg.pth"), **OPTS)


def test_tiled_upscaling_matches_the_whole_image():
    torch.manual_seed(0)
    G = RRDBNet(ESRGANConfig(scale=4, width=4, blocks=1, growth=4)).eval()
    lr = torch.rand(1, 3, 40, 52) * 2 - 1
    hr = torch.rand(1, 3, 160, 208) * 2 - 1
    with torch.no_grad():
        whole = G(lr)
        calls = []
        tiles = tiled(G, lr, tile=16, overlap=4, pad=24, scale=4, progress=lambda d, t: calls.append((d, t)))

    def psnr(a, b):
        return (10 * torch.log10(4 / (a - b).square().mean())).item()
    assert len(calls) > 4 and calls[-1][0] == calls[-1][1]
    assert abs(psnr(tiles, hr) - psnr(whole, hr)) < 0.01 and psnr(tiles, whole) > 60


def test_clean_inputs_are_a_bicubic_downscale_of_the_crops(blob_dataset, tmp_path):
    from artforge.ops.degrade import downscale
    run = artforge.train(blob_dataset, out=tmp_path, steps=2, gan_weight=0.0, degrade="clean", precision="bf16",
                         **{k: v for k, v in OPTS.items() if k != "precision"})
    assert json.loads((run.run_dir / "options.json").read_text())["train"]["degrade"] == "clean"
    from artforge.tasks.sr import SRTask
    task = SRTask.__new__(SRTask)
    task.cfg = type("Sections", (), {"task": SROptions(degrade="clean", scale=4)})()
    hr = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(task.make_inputs(hr, torch.Generator()), downscale(hr, 4, "bicubic").clamp(-1, 1))
