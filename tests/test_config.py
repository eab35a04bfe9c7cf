"""Tests of the option dataclasses and their validation (options/)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from artforge.options import (
    PrepareConfig,
    SampleConfig,
    TrainConfig,
    flag_name,
    from_dict,
    parse_seeds,
    to_dict,
)
from artforge.errors import UsageError
from artforge.options.fields import option

NAN, INF = float("nan"), float("inf")


def raises_flag(flag: str, cls, **kwargs):
    with pytest.raises(UsageError) as info:
        cls(**kwargs)
    assert flag in info.value.message, (flag, info.value.message)
    assert info.value.exit_code == 2
    return info.value


def prep(**kw):
    return PrepareConfig(**{"source": "pics", **kw})


def train(**kw):
    return TrainConfig(**{"dataset": "ds.zip", **kw})


def sample(**kw):
    return SampleConfig(**{"run": "runs/0", **kw})


# ----------------------------------------------------------------------------- helpers


def test_flag_name():
    assert flag_name("lr_g") == "--lr-g"
    assert flag_name("size") == "--size"
    assert flag_name("checkpoint_every") == "--checkpoint-every"


def test_option_rejects_mutable_defaults():
    with pytest.raises(TypeError):
        option([1, 2], "no lists")
    f = option((1, 2), "tuples are fine", choices=("a",))
    assert f.default == (1, 2) and f.metadata["help"] == "tuples are fine" and f.metadata["choices"] == ("a",)


# ----------------------------------------------------------------------------- prepare


def test_prepare_defaults_valid():
    cfg = prep()
    assert cfg.size == 64 and cfg.split == (0.9, 0.05, 0.05)


def test_prepare_needs_a_source():
    with pytest.raises(UsageError, match="no source"):
        PrepareConfig()


@pytest.mark.parametrize("value", [0, -64, 3, 64.0, True, "64", None])
def test_prepare_bad_size(value):
    err = raises_flag("--size", PrepareConfig, source="x", size=value)
    assert "--size" in err.fix


@pytest.mark.parametrize("field,value,flag", [
    ("fit", "zoom", "--fit"), ("color", "cmyk", "--color"), ("resample", "nearest", "--resample"),
    ("labels", "yes", "--labels"), ("subset", 0, "--subset"), ("subset", 1.5, "--subset"),
    ("subset", True, "--subset"), ("subset", -0.1, "--subset"), ("min_size", 0, "--min-size"),
    ("max_pixels", -1, "--max-pixels"), ("workers", -1, "--workers"), ("workers", 1.5, "--workers"),
    ("background", "notacolour", "--background"), ("background", "#12345", "--background"),
])
def test_prepare_bad_values_name_the_flag(field, value, flag):
    raises_flag(flag, PrepareConfig, source="x", **{field: value})


@pytest.mark.parametrize("split", [(0.5, 0.5, 0.5), (0.9, 0.1), (0.0, 0.5, 0.5), (-0.1, 0.6, 0.5),
                                   (1.2, -0.1, -0.1), ("a", 0, 0), (0.9, 0.05, 0.04), (0.25,) * 4])
def test_prepare_bad_split(split):
    raises_flag("--split", PrepareConfig, source="x", split=split)


@pytest.mark.parametrize("split,want", [([0.8, 0.1, 0.1], (0.8, 0.1, 0.1)), ((1, 0, 0), (1, 0, 0)),
                                        ((0.7, 0.3, 0.0), (0.7, 0.3, 0.0))])
def test_prepare_good_split_becomes_a_tuple(split, want):
    assert prep(split=split).split == want


@pytest.mark.parametrize("kw", [dict(size=4), dict(size=256), dict(fit="pad"), dict(color="gray"),
                                dict(background="#ff00aa"), dict(background="black"), dict(subset=1),
                                dict(subset=0.1), dict(workers=0), dict(resample="box"), dict(labels="none")])
def test_prepare_good_values(kw):
    cfg = prep(**kw)
    for k, v in kw.items():
        assert getattr(cfg, k) == v


def test_prepare_nan_split_rejected():
    raises_flag("--split", PrepareConfig, source="x", split=(NAN, 0.5, 0.5))


@pytest.mark.parametrize("value", ["0.5", None])
def test_prepare_subset_wrong_type_is_usage_error(value):
    raises_flag("--subset", PrepareConfig, source="x", subset=value)


def test_prepare_background_wrong_type_is_usage_error():
    raises_flag("--background", PrepareConfig, source="x", background=5)


# ----------------------------------------------------------------------------- train


def test_train_defaults_valid():
    cfg = train()
    assert cfg.arch == "dcgan" and cfg.recipe is None and cfg.loss is None and cfg.augment == ("flip",)
    assert cfg.resolved().recipe == "stable" and train(arch="style").resolved().recipe == "style-cpu"
    assert train(arch="style", preset="small").resolved().recipe == "stylegan2"
    resolved = cfg.resolved()
    lite = train(arch="style").resolved()  # G's rate falls to 5% over the last 70%; D's stays
    assert (lite.lr_decay, lite.lr_floor_g, lite.lr_floor_d) == (0.7, 0.05, 1.0)
    assert (resolved.lr_decay, resolved.lr_floor_g, resolved.lr_floor_d) == (0.0, 0.0, 0.0)
    assert (lite.mode_seeking, lite.mode_seeking_size, resolved.mode_seeking) == (1.0, 16, 0.0)  # MSGAN for style
    assert resolved.loss == "nonsaturating" and resolved.r1_gamma == 0.1 and resolved.ada_target == 0.6
    assert not cfg.stop_given()
    assert train(steps=10).stop_given() and train(minutes=0.5).stop_given() and train(kimg=1).stop_given()


def test_train_needs_a_dataset():
    with pytest.raises(UsageError, match="no dataset"):
        TrainConfig()


@pytest.mark.parametrize("name", ["z_dim", "width", "max_width", "batch", "tick", "checkpoint_every", "keep"])
@pytest.mark.parametrize("value", [0, -1, True, 2.0, "8"])
def test_train_positive_ints(name, value):
    raises_flag(flag_name(name), TrainConfig, dataset="x", **{name: value})


@pytest.mark.parametrize("name", ["mbstd_group", "self_cond_min_images"])  # 0 turns them off
@pytest.mark.parametrize("value", [-1, True, 2.0, "8"])
def test_train_non_negative_ints(name, value):
    raises_flag(flag_name(name), TrainConfig, dataset="x", **{name: value})


@pytest.mark.parametrize("name", ["lr_g", "lr_d", "cache_gb"])
@pytest.mark.parametrize("value", [0, -1e-4, INF, NAN, True, "0.1"])
def test_train_positive_floats(name, value):
    raises_flag(flag_name(name), TrainConfig, dataset="x", **{name: value})


@pytest.mark.parametrize("field,value,flag", [
    ("eval_images", -1, "--eval-images"), ("workers", -2, "--workers"), ("steps", 0, "--steps"),
    ("steps", 1.5, "--steps"), ("steps", -5, "--steps"), ("kimg", -1, "--kimg"), ("minutes", 0, "--minutes"),
    ("minutes", NAN, "--minutes"), ("beta1", 1.5, "--beta1"), ("beta2", -0.1, "--beta2"),
    ("label_smoothing", 2, "--label-smoothing"), ("beta1", True, "--beta1"), ("ema_kimg", -1, "--ema-kimg"),
    ("ema_rampup", True, "--ema-rampup"), ("ema_kimg", "10", "--ema-kimg"), ("precision", "fp8", "--precision"),
    ("arch", "stylegan9", "--arch"), ("loss", "hinge2", "--loss"), ("recipe", "magic", "--recipe"), ("d_norm", "group", "--d-norm"),
    ("d_augment", ("wobble",), "--d-augment"), ("n_critic", 0, "--n-critic"), ("r1_gamma", -1, "--r1-gamma"),
    ("ada_target", 1.5, "--ada-target"), ("gp_weight", NAN, "--gp-weight"), ("augment", ("bogus",), "--augment"),
    ("augment", ("flip", "cutout"), "--augment"),
])
def test_train_bad_values_name_the_flag(field, value, flag):
    raises_flag(flag, TrainConfig, dataset="x", **{field: value})


@pytest.mark.parametrize("kw", [dict(batch=1), dict(lr_g=1e-3, lr_d=5e-5), dict(steps=1), dict(steps=10.0),
                                dict(kimg=0.5), dict(minutes=1), dict(beta1=0.0, beta2=1), dict(ema_kimg=0),
                                dict(ema_rampup=0), dict(eval_images=0), dict(label_smoothing=0.1),
                                dict(loss="minimax"), dict(precision="bf16"), dict(cache_gb=0.001)])
def test_train_good_values(kw):
    cfg = train(**kw)
    for k, v in kw.items():
        assert getattr(cfg, k) == v


def test_train_augment_none_and_empty_are_dropped():
    assert train(augment=("none",)).augment == ()
    assert train(augment=("", "flip", "rotate")).augment == ("flip", "rotate")
    assert train(augment=[]).augment == ()


def test_train_split_validated():
    raises_flag("--split", TrainConfig, dataset="x", split="val")


def test_train_negative_seed_rejected():
    raises_flag("--seed", TrainConfig, dataset="x", seed=-1)


def test_train_required_floats_reject_none():
    raises_flag("--cache-gb", TrainConfig, dataset="x", cache_gb=None)


def test_recipe_fills_only_what_was_not_given():
    from artforge.recipes import RECIPES, recipe_fields
    cfg = train(recipe="wgan-gp", lr_g=3e-4).resolved()
    assert cfg.lr_g == 3e-4 and cfg.lr_d == RECIPES["wgan-gp"].lr_d == 1e-4
    assert cfg.loss == "wasserstein" and cfg.gp_weight == 10 and cfg.n_critic == 5 and cfg.d_norm == "layer"
    assert all(getattr(cfg, f) is not None for f in recipe_fields())  # can fail: a field no recipe fills stays None
    assert train(recipe="dcgan", d_augment="diffaug").resolved().d_augment == ("diffaug",)


def test_train_beta1_wrong_type_is_usage_error():
    raises_flag("--beta1", TrainConfig, dataset="x", beta1="0.5")


# ----------------------------------------------------------------------------- sample


def test_sample_defaults_and_seed_list():
    assert sample(n=3, seed=5).seed_list() == [5, 6, 7]
    assert sample(seeds="2,4").seed_list() == [2, 4]
    assert sample().seed_list() == list(range(64))


def test_sample_needs_a_run():
    with pytest.raises(UsageError, match="no run"):
        SampleConfig()


@pytest.mark.parametrize("field,value,flag", [
    ("n", 0, "--n"), ("n", True, "--n"), ("seed", -1, "--seed"), ("seed", 1.0, "--seed"),
    ("truncation", -0.1, "--truncation"), ("truncation", 10.5, "--truncation"),
    ("truncation", True, "--truncation"), ("truncation", "0.7", "--truncation"),
])
def test_sample_bad_values_name_the_flag(field, value, flag):
    raises_flag(flag, SampleConfig, run="r", **{field: value})


@pytest.mark.parametrize("value", [0, 0.7, 1, 10])
def test_sample_good_truncation(value):
    assert sample(truncation=value).truncation == value


# ----------------------------------------------------------------------------- parse_seeds


@pytest.mark.parametrize("text,want", [
    ("1,5,10-12", [1, 5, 10, 11, 12]), ("0", [0]), ("7-7", [7]), (" 3 , 4-5 ", [3, 4, 5]),
    ("1,,2", [1, 2]), ("2,1", [2, 1]), (42, [42]),
])
def test_parse_seeds(text, want):
    assert parse_seeds(text) == want


@pytest.mark.parametrize("text", ["", ",", "abc", "1,x", "5-3", "1-2-3", "-5", "1.5", "1-", "-"])
def test_parse_seeds_rejects(text):
    with pytest.raises(UsageError) as info:
        parse_seeds(text)
    assert "--seeds" in info.value.message


def test_sample_bad_seeds_raise_when_listed():
    with pytest.raises(UsageError, match="--seeds"):
        sample(seeds="x-y").seed_list()


# ----------------------------------------------------------------------------- dict round trip


@pytest.mark.parametrize("cfg", [
    PrepareConfig(source="pics", size=128, split=(0.8, 0.1, 0.1), background="#000000"),
    TrainConfig(dataset="d.zip", augment=("flip", "rotate"), steps=5, lr_g=1e-3),
    SampleConfig(run="r", seeds="1-3", truncation=0.5),
])
def test_to_dict_from_dict_round_trip(cfg):
    d = to_dict(cfg)
    assert set(d) == {f.name for f in dataclasses.fields(cfg)}
    back = from_dict(type(cfg), json.loads(json.dumps(d)))  # tuples become lists in JSON
    assert back == cfg
    for f in dataclasses.fields(cfg):
        assert type(getattr(back, f.name)) is type(getattr(cfg, f.name)), f.name


def test_from_dict_ignores_unknown_keys_and_makes_tuples():
    cfg = from_dict(TrainConfig, {"dataset": "d.zip", "augment": ["flip", "scale"], "from_the_future": 1,
                                  "batch": 16})
    assert cfg.augment == ("flip", "scale")  # a tuple: the list from JSON would not equal it
    assert cfg.batch == 16
    p = from_dict(PrepareConfig, {"source": "x", "split": [0.5, 0.25, 0.25], "nope": None})
    assert p.split == (0.5, 0.25, 0.25)


def test_from_dict_still_validates():
    with pytest.raises(UsageError, match="--batch"):
        from_dict(TrainConfig, {"dataset": "d.zip", "batch": 0})


def test_configs_are_frozen():
    cfg = train()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.batch = 3


# ----------------------------------------------------------------------------- no torch on import


@pytest.mark.parametrize("code", [
    "import artforge.options, sys; assert 'torch' not in sys.modules",
    "import artforge, sys; assert 'torch' not in sys.modules",
    "import sys; from artforge.options import PrepareConfig, SampleConfig, parse_seeds; "
    "PrepareConfig(source='x'); SampleConfig(run='r'); parse_seeds('1-3'); assert 'torch' not in sys.modules",
])
def test_import_does_not_pull_in_torch(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------------- family option sections

def test_each_family_offered_has_an_option_section_its_config_reads():
    import dataclasses
    from artforge.options import catalog
    from artforge.options.families import FAMILY_OPTIONS
    from artforge.models.registry import ARCHITECTURES
    assert tuple(FAMILY_OPTIONS) == catalog.ARCHITECTURES
    for name, family in ARCHITECTURES.items():
        fields = {f.name for f in dataclasses.fields(family.config)}
        network = {f.name for f in dataclasses.fields(FAMILY_OPTIONS[name]) if f.metadata["network"]}
        assert network <= fields, name  # every network option reaches the family's config


def test_each_task_offered_has_an_option_section():
    from artforge.options.train import TASK_OPTIONS, TASKS
    from artforge.tasks.specs import TASKS as SPECS
    assert TASKS == tuple(TASK_OPTIONS) == tuple(SPECS)


def test_family_options_are_the_run_s_model_section():
    from artforge.options import TrainConfig
    cfg = TrainConfig(dataset="x", width=48, mbstd_group=0)
    assert cfg.family_options() == {"z_dim": 128, "width": 48, "max_width": 512, "mbstd_group": 0,
                                    "output_bias": True, "d_norm": None, "g_spectral": None}


def test_options_of_another_family_or_task_are_refused(blob_dataset, tmp_path):
    from artforge.options.train import foreign_option
    assert "--mapping-layers is not an option of --arch dcgan" in str(
        foreign_option("generation", "dcgan", {"width": 8, "mapping_layers": 4, "steps": 3}))
    assert foreign_option("generation", "style", {"width": 8, "preset": "small", "steps": 3}) is None
    assert "--d-norm" in str(foreign_option("generation", "style", {"width": 8, "d_norm": "batch"}))
    # width is pix2pix's too (its own default); d-augment is the generation task's, crop sr's
    assert foreign_option("pix2pix", "dcgan", {"width": 8, "l1_weight": 3}) is None
    # the generation task's and --arch's options: ignored by the image-to-image tasks, as before the split,
    # so command lines that worked keep working (not recorded); --mode-seeking was refused then and still is
    assert foreign_option("pix2pix", "dcgan", {"d_augment": "bgc", "eval_images": 8, "d_norm": "layer"}) is None
    assert "--mode-seeking is an option of --task generation, not of --task pix2pix" in str(
        foreign_option("pix2pix", "dcgan", {"mode_seeking": 1.0}))
    assert "--w-dim is an option of --arch style, not of --task pix2pix" in str(
        foreign_option("pix2pix", "dcgan", {"w_dim": 4}))
    assert "eval_images" not in TrainConfig(dataset="x", task="pix2pix", eval_images=8).record()
    assert "--crop is an option of --task sr, not of --task generation --arch dcgan" in str(
        foreign_option("generation", "dcgan", {"crop": 32}))
    import artforge
    with pytest.raises(UsageError, match="--mapping-layers is not an option of --arch dcgan"):
        artforge.train(blob_dataset, out=tmp_path, steps=1, mapping_layers=4, progress=False)


def test_shared_options_take_each_part_s_default_unless_given():
    from artforge.options import TrainConfig
    from artforge.options.families import STYLE_PRESETS, DCGANOptions
    assert TrainConfig(dataset="x").family_options()["width"] == DCGANOptions.DEFAULTS["width"]
    style = TrainConfig(dataset="x", arch="style", preset="small").family_options()
    assert style["width"] == STYLE_PRESETS["small"]["width"] and style["w_dim"] == STYLE_PRESETS["small"]["w_dim"]
    given = TrainConfig(dataset="x", arch="style", preset="small", width=24, pl_weight=0.5).resolved()
    assert (given.width, given.pl_weight, given.z_dim, given.recipe) == (24, 0.5, 256, "stylegan2")
    # one flag, each part's own default: pix2pix's L1 weight is the paper's 100, sr's 1
    assert TrainConfig(dataset="x", task="pix2pix").sections().task.l1_weight == 100.0
    assert TrainConfig(dataset="x", task="sr").sections().task.l1_weight == 1.0
    assert TrainConfig(dataset="x", task="sr", l1_weight=3.0).sections().task.l1_weight == 3.0


def test_a_run_records_only_its_own_parts_options():
    from artforge.options import TrainConfig
    dcgan = TrainConfig(dataset="x").resolved().record()
    assert {"z_dim", "d_norm", "gp_weight", "batch", "arch"} <= dcgan.keys()
    assert not {"cycle_weight", "pool_size", "vgg_weights", "griffin_lim_iters", "phase_shuffle", "preset",
                "w_dim"} & dcgan.keys()
    pix2pix = TrainConfig(dataset="x", task="pix2pix").resolved().record()
    assert {"l1_weight", "dropout", "width", "lr_g", "beta1"} <= pix2pix.keys()
    assert not {"arch", "z_dim", "gp_weight", "d_augment", "self_cond", "eval_every", "crop"} & pix2pix.keys()
    style = TrainConfig(dataset="x", arch="style").resolved().record()
    assert {"preset", "w_dim", "pl_weight"} <= style.keys() and "d_norm" not in style


def test_sections_are_the_flat_options_by_owner():
    from artforge.options import TrainConfig
    cfg = TrainConfig(dataset="x", arch="style", batch=8, gp_weight=1.0, w_dim=64).resolved()
    sections = cfg.sections()
    assert (sections.engine.batch, sections.task.gp_weight, sections.family.w_dim) == (8, 1.0, 64)
    assert sections.run.recipe == "style-cpu" and sections.family.preset == "lite"
    assert TrainConfig(dataset="x", task="cyclegan", b="y").sections().family is None


def test_old_run_options_are_migrated_to_the_run_s_own():
    import json
    from pathlib import Path
    from artforge.runs.migrations import migrate_run_options
    fixture = Path(__file__).parent / "fixtures" / "runs-ca4152c" / "runs"
    for run in ("00000-blobs-dcgan", "00000-pairs-pix2pix", "00000-blobs-style"):
        old = json.loads((fixture / run / "options.json").read_text())
        assert len(old["train"]) == 98  # format 1 held every option of every part
        new = migrate_run_options(old)
        assert new["options_format"] == 2 and "cycle_weight" not in new["train"]
        kept = {k for k in new["train"].keys() & old["train"].keys() if old["train"][k] is not None}
        assert {k: new["train"][k] for k in kept} == {k: old["train"][k] for k in kept} and len(kept) > 30
        assert new["model"] == old["model"] and migrate_run_options(new) is new


def test_options_that_did_not_exist_take_their_old_meaning():
    from artforge.runs.migrations import migrate_run_options
    old = {"train": {"dataset": "d.zip", "arch": "dcgan", "task": "generation", "width": 8}, "model": {}}
    new = migrate_run_options(old)["train"]
    assert (new["output_bias"], new["mbstd_group"], new["width"]) == (False, 0, 8)


def test_train_help_lists_only_the_run_s_parts(capsys):
    from artforge.cli import main
    with pytest.raises(SystemExit):
        main(["train", "--task", "sr", "--help"])
    out = capsys.readouterr().out
    section = out.split("options of --task sr:")[1]
    assert "--crop" in section and "--vgg-weights" in section and "(default: 4)" in section.split("--blocks")[1][:80]
    assert "--d-augment" not in out and "--z-dim" not in out and "--cycle-weight" not in out
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "options of --task generation:" in out and "options of --arch dcgan:" in out
    assert "--crop" not in out and "--w-dim" not in out and "--batch" in out


def test_train_help_lists_the_family_s_options_under_it(capsys):
    from artforge.cli import main
    with pytest.raises(SystemExit):
        main(["train", "--arch", "dcgan", "--help"])
    out = capsys.readouterr().out
    section = out.split("options of --arch dcgan:")[1]
    assert "--width" in section and "--mbstd-group" in section and "--recipe" not in section
