"""What makes the first run work on any CPU: the precision choice, G's output bias, D's minibatch std,
and sizing a --minutes run to the machine (the decision itself is in test_sizing.py)."""

from __future__ import annotations

import json

import pytest
import torch

import artforge
from artforge.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator, minibatch_std
from artforge.commands import sizing
from artforge.runs.monitor import read_log
from artforge.utils import device as device_mod

from conftest import TINY, gen

pytestmark = pytest.mark.usefixtures("one_thread")

CPU = torch.device("cpu")


# ----------------------------------------------------------------------------- --precision auto


def test_auto_takes_fp32_on_a_cpu_without_native_bf16(monkeypatch):
    monkeypatch.setattr(device_mod, "cpu_has_fast_bf16", lambda: False)
    monkeypatch.setattr(device_mod, "cpu_bf16_speedup", lambda: pytest.fail("nothing to measure without bf16"))
    choice = device_mod.choose_precision("auto", CPU)
    assert choice.dtype is None and "no native bf16" in choice.reason


@pytest.mark.parametrize("speedup, expected", [(3.0, torch.bfloat16), (1.05, None)])
def test_auto_takes_bf16_only_where_it_measures_faster(monkeypatch, speedup, expected):
    monkeypatch.setattr(device_mod, "cpu_has_fast_bf16", lambda: True)
    monkeypatch.setattr(device_mod, "cpu_bf16_speedup", lambda: speedup)
    choice = device_mod.choose_precision("auto", CPU)
    assert choice.dtype == expected
    assert f"{speedup:.1f}" in choice.reason  # the measured figure is in the reason


def test_an_explicit_precision_is_kept_and_says_so():
    choice = device_mod.choose_precision("fp32", CPU)
    assert choice.dtype is None and "--precision fp32" in choice.reason


def test_the_bf16_speedup_is_the_ratio_of_median_step_times(monkeypatch):
    # Three alternated rounds of two timings each, with one slow outlier per precision: the median
    # ignores it (fp32 2.0 s, bf16 0.5 s: 4.0x), where a mean would give 2.5x and an inverted ratio 0.25x.
    rounds = {None: iter([[2.0, 2.0], [2.0, 9.0], [2.0, 2.0]]), torch.bfloat16: iter([[0.5, 0.5], [5.0, 0.5], [0.5, 0.5]])}
    monkeypatch.setattr(device_mod, "_conv_step_seconds", lambda dtype, repeats: next(rounds[dtype]))
    device_mod.cpu_bf16_speedup.cache_clear()
    try:
        assert device_mod.cpu_bf16_speedup() == 4.0
    finally:
        device_mod.cpu_bf16_speedup.cache_clear()  # the next caller measures this CPU, not the fake


def test_the_run_logs_which_precision_it_chose_and_why(trained_run):
    _, events = read_log(trained_run / "log.jsonl")
    chosen = [e for e in events if e["event"] == "precision"]
    # the choice follows the reason it states: bf16 only where it measured faster, fp32 otherwise
    assert chosen[0]["precision"] == ("bf16" if "faster than fp32" in chosen[0]["reason"] else "fp32")
    options = json.loads((trained_run / "options.json").read_text())
    assert options["precision"] == chosen[0]["precision"] and options["precision_reason"] == chosen[0]["reason"]


# ----------------------------------------------------------------------------- G's output bias


def test_output_bias_starts_g_at_the_given_mean_image():
    cfg = DCGANConfig(resolution=16, z_dim=8, width=8, output_bias=True)
    g = DCGANGenerator(cfg)
    mean = torch.linspace(-0.9, 0.9, 3 * 16 * 16).reshape(3, 16, 16)
    g.init_output_bias(mean)
    with torch.no_grad():
        for p in g.to_image.parameters():
            p.zero_()  # the rest of G then adds nothing: the output is the bias alone
        out = g(torch.randn(2, 8, generator=gen(0)))
    torch.testing.assert_close(out, mean.expand(2, -1, -1, -1), atol=1e-5, rtol=0)


def test_output_bias_is_clamped_short_of_saturation():
    g = DCGANGenerator(DCGANConfig(resolution=16, z_dim=8, width=8, output_bias=True))
    g.init_output_bias(torch.ones(3, 16, 16))  # an all-white mean would need an infinite bias
    assert torch.isfinite(g.output_bias).all()
    torch.testing.assert_close(torch.tanh(g.output_bias), torch.full((3, 16, 16), 0.98))


def test_training_starts_the_bias_at_the_training_images_mean(blob_dataset, tmp_path):
    from artforge.options import TrainConfig
    from artforge.data.archive import open_dataset
    from artforge.data.loader import decode_all
    from artforge.commands.trainer import Trainer

    ds = open_dataset(blob_dataset)
    trainer = Trainer(TrainConfig(dataset=str(blob_dataset), **TINY), tmp_path, ds)
    images = decode_all(ds, ds.indices("train")).float() / 127.5 - 1  # every one: fewer than 256 here
    expected = torch.atanh(images.mean(0).clamp(-0.98, 0.98))
    for g in (trainer.nets["G"], trainer.ema_nets["G_ema"]):
        torch.testing.assert_close(g.output_bias, expected, atol=1e-4, rtol=0)


def test_a_run_made_before_the_output_bias_resumes_as_it_was_trained(blob_dataset, tmp_path):
    """options.json without the options added since: the run resumes as it was made."""
    first = artforge.train(blob_dataset, out=tmp_path, steps=4, output_bias=False, mbstd_group=0, **TINY)
    options_path = first.run_dir / "options.json"
    options = json.loads(options_path.read_text())
    del options["options_format"]  # a run from before the options were split
    for key in ("output_bias", "mbstd_group", "self_cond_min_images"):
        del options["train"][key]
        options["model"].pop(key, None)
    options_path.write_text(json.dumps(options))
    resumed = artforge.train(resume=first.run_dir, steps=8, progress=False)
    assert resumed.step == 8 and resumed.status == "finished"
    restored = artforge.load(first.run_dir, device="cpu")
    assert getattr(restored.G, "output_bias", None) is None


# ----------------------------------------------------------------------------- minibatch std


def reference_minibatch_std(h: torch.Tensor, group: int) -> torch.Tensor:
    """Loops over the groups: image i is in group i mod (B / group)."""
    b = h.shape[0]
    per = b // group
    out = torch.empty(b, 1, *h.shape[2:])
    for j in range(per):
        members = h[j::per].double()  # (group, C, H, W)
        mean = members.mean(0)
        std = ((members - mean) ** 2).mean(0).add(1e-8).sqrt().mean()
        out[j::per] = std.float()
    return out


@pytest.mark.parametrize("b, group", [(8, 4), (6, 4), (5, 4), (16, 1)])
def test_minibatch_std_matches_reference_math(b, group):
    h = torch.randn(b, 5, 3, 3, generator=gen(b))
    used = max(d for d in range(1, min(group, b) + 1) if b % d == 0)  # 6 with 4 -> 3, 5 -> 1
    torch.testing.assert_close(minibatch_std(h, group), reference_minibatch_std(h, used))


def test_minibatch_std_lets_d_tell_a_collapsed_batch_from_a_varied_one():
    d = DCGANDiscriminator(DCGANConfig(resolution=16, width=8, mbstd_group=4)).eval()
    varied = torch.rand(8, 3, 16, 16, generator=gen(1)) * 2 - 1
    collapsed = varied[:1].expand(8, -1, -1, -1)
    with torch.no_grad():
        stats_varied = minibatch_std(d.blocks(d.from_image(varied)), 4)
        stats_collapsed = minibatch_std(d.blocks(d.from_image(collapsed)), 4)
    assert stats_collapsed.abs().max() < 1e-3 < stats_varied.min()


# ----------------------------------------------------------------------------- sizing a --minutes run


def test_a_minutes_run_is_sized_to_the_machine_and_says_so(blob_dataset, tmp_path, monkeypatch):
    small, tiny = sizing.Size(16, 8), sizing.Size(8, 8)
    monkeypatch.setattr(sizing, "CANDIDATES", (small, tiny))
    opts = {k: v for k, v in TINY.items() if k not in ("width", "batch")}
    result = artforge.train(blob_dataset, out=tmp_path, minutes=0.01, **opts)
    options = json.loads((result.run_dir / "options.json").read_text())
    chosen = options["sizing"]
    assert (chosen["width"], chosen["batch"]) == (options["train"]["width"], options["train"]["batch"])
    # 0.6 s buys no candidate its 20,000 steps: only the cheapest is timed (the wider one would miss
    # too) and it is the one chosen.
    assert [(m["width"], m["batch"]) for m in chosen["measured_img_per_s"]] == [(8, 8)]
    assert (chosen["width"], chosen["batch"]) == (8, 8)
    _, events = read_log(result.run_dir / "log.jsonl")
    assert [e["width"] for e in events if e["event"] == "sizing"] == [chosen["width"]]


def test_an_explicit_width_or_batch_turns_sizing_off(blob_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(sizing, "measure", lambda *a, **k: pytest.fail("sized although --width was given"))
    result = artforge.train(blob_dataset, out=tmp_path, minutes=0.005, **TINY)
    assert json.loads((result.run_dir / "options.json").read_text())["sizing"] is None
    opts = {k: v for k, v in TINY.items() if k not in ("width", "batch")}
    result = artforge.train(blob_dataset, out=tmp_path, minutes=0.005, size_to_budget=False, **opts)
    assert json.loads((result.run_dir / "options.json").read_text())["sizing"] is None


def test_d_reads_the_minibatch_std_as_an_extra_channel_of_its_last_layer():
    """The shortcut in forward (no concatenation) equals the layer on [features, std map]."""
    d = DCGANDiscriminator(DCGANConfig(resolution=16, width=8, mbstd_group=4)).eval()
    x = torch.rand(8, 3, 16, 16, generator=gen(2)) * 2 - 1
    with torch.no_grad():
        h = d.blocks(d.from_image(x))
        expected = d.to_logit(torch.cat([h, minibatch_std(h, 4)], dim=1)).flatten()
        torch.testing.assert_close(d(x), expected)
