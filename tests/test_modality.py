"""The modality records carry what differs between images, sounds and piano rolls: the words of the
commands, the augmentations and family options a dataset brings, what a run's samples and reports say.
The expected strings are those the code printed before the records held them (issue 38)."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from artforge.options import TrainConfig
from artforge.errors import UsageError
from artforge.modality import IMAGE, MODALITIES, PIANOROLL, WAVE, of_samples
from artforge.commands import trainer


def dataset(modality: str, aspect=(1, 1)) -> SimpleNamespace:
    """What the training checks read of a dataset, for one of ``modality``."""
    shape = (64, 64) if aspect == (1, 1) else (48, 64)
    return SimpleNamespace(modality=modality, display_name="d", aspect=aspect, shape=shape, resolution=64,
                           channels=3 if modality == "image" else 1, sample_rate=16000, height=84, width=64,
                           spec=SimpleNamespace(bars=4))


def refusal(call) -> tuple[str, str]:
    with pytest.raises(UsageError) as info:
        call()
    return info.value.message, info.value.fix


def test_the_records_import_no_torch():
    code = "import sys, artforge.modality, artforge.needs; print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


@pytest.mark.parametrize("modality, augment, expected", [
    ("image", None, ("flip",)),  # the config's own default
    ("audio", None, ()),
    ("pianoroll", None, ("transpose",)),  # the rolls' own augmentation is their default
    ("pianoroll", (), ()),
])
def test_each_modality_trains_with_its_own_augmentations(modality, augment, expected):
    options = {} if augment is None else {"augment": augment}
    cfg = TrainConfig(dataset="x", **options)
    assert trainer._modality_augment(cfg, dataset(modality), options).augment == expected


def test_another_modalitys_augmentations_are_refused_in_its_words():
    def check(modality, augment, task="generation"):
        cfg = TrainConfig(dataset="x", task=task, augment=augment)
        return refusal(lambda: trainer._modality_augment(cfg, dataset(modality), {"augment": augment}))

    assert check("image", ("flip", "transpose")) == ("--augment transpose shifts piano rolls; dataset d holds images",
                                                     "leave it out")
    assert check("pianoroll", ("flip", "transpose")) == (
        "--augment flip transforms images; dataset d holds piano rolls",
        "leave it out (piano rolls take --augment transpose)")
    assert check("audio", ("scale", "crop")) == ("--augment scale,crop transforms images; dataset d holds sounds",
                                                 "leave it out")
    assert check("audio", (), task="pix2pix") == ("dataset d holds sounds; --task pix2pix translates images",
                                                  "train it with the generation task and a fitting --arch")


def test_a_family_of_another_modality_is_refused_with_how_to_prepare_its_own():
    assert refusal(lambda: trainer._check_shape("musegan", dataset("image"))) == (
        "--arch musegan makes piano rolls; dataset d holds images",
        "use --arch dcgan or --arch style, or prepare piano rolls with 'artforge prepare music SRC' "
        "(e.g. the built-in bach)")
    assert refusal(lambda: trainer._check_shape("dcgan", dataset("audio"))) == (
        "--arch dcgan makes images; dataset d holds sounds",
        "use --arch wavegan or --arch specgan, or prepare images with 'artforge prepare SRC'")
    assert refusal(lambda: trainer._check_shape("dcgan", dataset("image", (4, 3)))) == (
        "--arch dcgan trains square images; dataset d is 64x48", "use --arch style, or prepare it with --aspect 1:1")


@pytest.mark.parametrize("arch, modality, aspect, expected", [
    ("style", "image", (4, 3), {"aspect": (4, 3)}),
    ("dcgan", "image", (1, 1), {}),
    ("wavegan", "audio", (1, 1), {"sample_rate": 16000}),
    ("specgan", "audio", (1, 1), {"sample_rate": 16000}),
    ("musegan", "pianoroll", (1, 1), {"pitches": 84, "bars": 4}),
])
def test_a_dataset_fills_its_familys_shape_options(arch, modality, aspect, expected):
    assert trainer.shape_options(trainer.get_architecture(arch), dataset(modality, aspect)) == expected


def test_sampling_results_say_their_own_lines():
    sounds = {"kind": "sounds", "files": [1, 2], "seconds_of_sound": 2.5, "checkpoint": "c", "step": 3, "out": "o",
              "sample_s": 0.5, "page": "p.html"}
    pieces = {"kind": "music", "files": [1], "checkpoint": "c", "step": 3, "out": "o", "page": "p.html"}
    images = {"files": [1, 2, 3], "checkpoint": "c", "step": 3, "out": "o", "sample_s": 0.25, "grid": "g.png",
              "removed": [1], "dropped": list(range(21))}
    assert (of_samples(sounds), of_samples(pieces), of_samples(images)) == (WAVE, PIANOROLL, IMAGE)
    assert of_samples(sounds).sample_lines(sounds) == [
        "wrote 2 sounds (2.5 s) from c (step 3) to o in 0.50 s; listen: p.html"]
    assert of_samples(pieces).sample_lines(pieces) == [
        "wrote 1 pieces (MIDI, WAV, piano roll) from c (step 3) to o; listen: p.html"]
    assert of_samples(images).sample_lines(images) == [
        "wrote 3 images from c (step 3) to o in 0.25 s; grid: g.png",
        "removed 1 images an earlier call wrote there and this one did not",
        "left out 21 seeds where G's Jacobian is largest: " + ", ".join(map(str, range(20))) + " ..."]


def test_a_runs_evaluation_and_players_follow_its_modality():
    from artforge.metrics.evaluate import report_lines
    from artforge.metrics.run_reports import run_report
    from artforge.models.registry import FAMILIES

    kinds = {arch: (run_report(arch).kind if run_report(arch) else None) for arch in ("dcgan", "style", "wavegan",
                                                                                     "specgan", "musegan")}
    assert kinds == {"dcgan": None, "style": None, "wavegan": "sound", "specgan": "sound", "musegan": "music"}
    players = {arch: MODALITIES[FAMILIES[arch].trains_on].players for arch in ("dcgan", "wavegan", "musegan")}
    assert players == {"dcgan": "", "wavegan": "Sounds", "musegan": "Pieces"}
    report = {"kind": "sound", "checkpoint": "step-000010", "step": 10, "n": 8, "path": "/r/x.json",
              "generated": {"inception_score": 1.5, "times_real_time": 42.0}, "real_held_out": {"inception_score": 2.0},
              "classifier": {"held_out_clips": 6, "held_out_accuracy": 1.0}, "seconds": {"total": 3.2}}
    lines = report_lines(report)
    assert lines[0] == "evaluated step-000010 (step 10, sounds):" and lines[-1] == "  results: /r/x.json"
    assert lines[2] == "  inception score (classifier)          1.5           2"


def test_a_sound_or_music_run_is_scored_against_what_it_learned_from(monkeypatch):
    from pathlib import Path

    from artforge.data import archive
    from artforge.metrics import music_eval, run_reports

    images = SimpleNamespace(modality="image", path="d.zip")
    monkeypatch.setattr(archive, "open_dataset", lambda path: images)
    sound_run = SimpleNamespace(arch="wavegan", run_dir=Path("runs/00001-drums"))
    cfg = SimpleNamespace(real="d.zip")
    assert refusal(lambda: run_reports.evaluate_sound_run(cfg, sound_run, print)) == (
        "d.zip holds images; 00001-drums makes sounds",
        "compare with the sound dataset it was trained on (or leave the real option out)")
    assert refusal(lambda: music_eval.check_dataset(images, "pianoroll", "00002-bach")) == (
        "d.zip is not a piano-roll dataset; 00002-bach makes music",
        "compare with the dataset it was trained on (or leave the real option out)")
