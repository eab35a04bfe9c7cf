"""MuseGAN on the engine: piano-roll datasets train, resume exactly, sample MIDI/WAV/PNG with moods,
and are scored with MuseGAN's metrics and the mood control checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import artforge
from artforge.errors import UsageError
from artforge.data.mood import quadrant

pretty_midi = pytest.importorskip("pretty_midi")

from tests.test_music_prepare import MAJOR_FAST, MINOR_SLOW, write_midi  # noqa: E402

TINY = dict(batch=4, width=4, part_dim=4, tick=2, eval_images=8, progress=False, checkpoint_every=100)


@pytest.fixture(scope="module")
def roll_dataset(tmp_path_factory):
    from artforge.data.music_ingest import prepare_music

    src = tmp_path_factory.mktemp("songs")
    for i in range(3):  # transposed copies: several pieces of each mood
        write_midi(src / f"major{i}.mid", [[p + i for p in bar] for bar in MAJOR_FAST], tempo=150)
        write_midi(src / f"minor{i}.mid", [[p + i for p in bar] for bar in MINOR_SLOW], tempo=60, step_len=8)
    return prepare_music(str(src), str(src.parent / "songs.zip"), split=(0.7, 0.15, 0.15)).path


def test_transposition_shifts_pitches_and_fills_silence():
    from artforge.modality import transpose_batch

    x = -torch.ones(2, 1, 3, 12)
    x[:, 0, :, 5] = 1.0
    y = transpose_batch(x, torch.tensor([2, -7]))
    assert y[0, 0, :, 7].eq(1).all() and y[0].sum() == x[0].sum()  # moved up two
    assert y[1].eq(-1).all()  # moved below the range: dropped, silence left


def test_soft_mood_weights_are_bilinear_and_a_corner_is_its_mood():
    from artforge.composing import mood_weights
    from artforge.options.shared import MOODS as OFFERED
    from artforge.data.mood import MOODS

    assert OFFERED == MOODS  # --mood's choices (config stays free of numpy) are the measured moods
    assert torch.allclose(mood_weights(1, 1), torch.tensor([1.0, 0, 0, 0]))  # joyful
    assert torch.allclose(mood_weights(-1, -1), torch.tensor([0, 0, 1.0, 0]))  # sombre
    assert torch.allclose(mood_weights(0, 0), torch.full((4,), 0.25))
    assert abs(float(mood_weights(0.3, -0.2).sum()) - 1) < 1e-6


def test_musegan_trains_resumes_exactly_samples_moods_and_evaluates(roll_dataset, tmp_path):
    full = artforge.train(roll_dataset, out=tmp_path / "a", arch="musegan", steps=4, **TINY)
    part = artforge.train(roll_dataset, out=tmp_path / "b", arch="musegan", steps=2, **TINY)
    resumed = artforge.train(resume=part.run_dir, steps=4)
    from artforge.runs import checkpoint as ckpt
    wa, wb = (ckpt.load_checkpoint(r.checkpoint)["models"] for r in (full, resumed))
    assert all(torch.equal(wa[net][k], wb[net][k]) for net in wa for k in wa[net])
    options = json.loads((full.run_dir / "options.json").read_text())
    assert options["train"]["augment"] == ["transpose"] and options["model"]["num_classes"] == 4
    assert options["model"]["channels"] == 1 and options["model"]["pitches"] == 84
    assert options["train"]["recipe"] == "musegan-cpu" and options["train"]["aux_weight"] == 1.0
    logged = [json.loads(line) for line in (full.run_dir / "log.jsonl").read_text().splitlines()]
    assert any("D/aux" in row and "G/aux" in row for row in logged)  # AC-GAN's classifier trains both ways

    from artforge.cli import main
    out = tmp_path / "pieces"
    assert main(["sample", str(full.run_dir), "--n", "2", "--mood", "sombre", "--out", str(out)]) == 0
    for ext in ("mid", "wav", "png", "json"):
        assert (out / f"seed0001.{ext}").is_file()
    record = json.loads((out / "seed0001.json").read_text())
    measured = record["measured"]  # the mood it names is the quadrant of the figures it records
    assert record["asked_mood"] == "sombre" and record["measured_mood"] == quadrant(measured["valence"], measured["arousal"])
    assert "seed0000.wav" in (out / "index.html").read_text()
    midi = pretty_midi.PrettyMIDI(str(out / "seed0001.mid"))
    assert sum(len(i.notes) for i in midi.instruments) == record["notes"]
    soft = tmp_path / "soft"
    assert main(["sample", str(full.run_dir), "--seeds", "1", "--valence", "-1", "--arousal", "-1", "--out",
                 str(soft)]) == 0  # a corner of the plane is its mood: the same piece as --mood sombre
    assert (soft / "seed0001.mid").read_bytes() == (out / "seed0001.mid").read_bytes()
    alone = tmp_path / "alone"
    assert main(["sample", str(full.run_dir), "--seeds", "1", "--mood", "sombre", "--mood-steps", "0", "--out",
                 str(alone)]) == 0
    assert json.loads((alone / "seed0001.json").read_text())["steered_by"] == 0.0
    assert record["settings"]["mood_steps"] == 50

    exported = artforge.export(full.run_dir, out=tmp_path / "export").load()  # keeps the roll format and tempos
    assert exported.extras["roll_spec"]["tracks"] == ["melody"]
    assert exported.extras["label_tempos"] == {"joyful": 150.0, "sombre": 60.0}  # major at 150 bpm, minor at 60

    report = artforge.evaluate(full.run_dir, n=8)
    assert report["kind"] == "music" and set(report["metrics"]) == {"training data", "model", "model, label alone"}
    assert report["mood"]["n"] == 8 and np.array(report["mood"]["confusion"]).sum() == 8
    assert report["mood_steps"] == 50 and report["mood_label_alone"]["n"] == 8  # steered, and the label alone
    plain = artforge.evaluate(full.run_dir, n=8, mood_steps=0, out=str(tmp_path / "plain.json"))
    assert "mood_label_alone" not in plain and plain["mood"]["confusion"] == report["mood_label_alone"]["confusion"]
    # Each mood of the data has one tempo, its median: measured at it, every training piece is in its
    # labelled quadrant (the wrong tempo or thresholds would move the slow minor pieces).
    assert report["mood_training_data"]["accuracy"] == 1.0
    for axis in ("valence", "arousal"):
        _check_sweep_correlation(report["sweep"], axis)
    judges = report["mood_judges"]
    from artforge.metrics.music_eval import music_summary_lines
    from artforge.utils.synth import can_render
    lines = "\n".join(music_summary_lines(report))
    assert "the steering objective (not a judge" in lines and "not a judge" in report["mood"]["measured_by"]
    try:
        import librosa  # noqa: F401
    except ImportError:
        assert "librosa" in judges["unavailable"]  # can fail: the message names what to install
        return
    if not can_render():
        assert "FluidSynth" in judges["unavailable"]  # can fail: the message names what to install
        return
    # the independent judges: the held-out real pieces are plainly major or minor and are heard so
    real = judges["real"]
    assert real["valence"]["overall"]["share"] == 1.0
    for condition in ("steered", "label_alone"):
        assert judges[condition]["n"] == 8 and np.array(judges[condition]["confusion"]).sum() == 8
    assert "mood control by independent judges" in lines and "| joyful | steered | 2 |" in lines


def _check_sweep_correlation(sweep: dict, axis: str):
    """The sweep's correlation of measured with asked, against what its per-point means imply: the
    asked values are balanced, so the covariance is mean(asked * mean measured at it), the correlation
    has its sign, and it is at most the correlation of the asked values with those means."""
    grid, means, corr = np.array(sweep["grid"]), np.array(sweep["measured_mean"][axis]), sweep[f"{axis}_correlation"]
    if np.isnan(corr):  # nothing measured varied
        assert np.ptp(means) == 0
        return
    cov = float(np.mean(grid * means))
    assert np.sign(corr) == np.sign(round(cov, 12))
    bound = abs(np.corrcoef(grid, means)[0, 1]) if np.ptp(means) else 0.0
    assert abs(corr) <= bound + 1e-9


def test_mood_options_are_checked(roll_dataset, tmp_path):
    from artforge.options import SampleConfig
    with pytest.raises(UsageError, match="--valence must be between -1 and 1"):
        SampleConfig(run="r", valence=2.0)
    with pytest.raises(UsageError, match="pass --mood or --label"):
        SampleConfig(run="r", mood="sombre", label="x")
    with pytest.raises(UsageError, match="--mood-steps must be an integer >= 0"):
        SampleConfig(run="r", mood_steps=-1)
    from artforge.options import EvaluateConfig
    with pytest.raises(UsageError, match="--mood-steps must be an integer >= 0"):
        EvaluateConfig(run="r", mood_steps=2.5)
    with pytest.raises(UsageError, match="--augment flip transforms images"):
        artforge.train(roll_dataset, out=tmp_path, arch="musegan", steps=1, augment=("flip",))


def test_prepare_music_command(tmp_path, capsys):
    from artforge.cli import main

    src = tmp_path / "songs"
    src.mkdir()
    write_midi(src / "a.mid", MAJOR_FAST, tempo=150)
    assert main(["prepare", "music", str(src), "--out", str(tmp_path / "m.zip"), "--quiet"]) == 0
    assert "prepared 2 rolls of 4 bars" in capsys.readouterr().out
    from artforge.data.archive import open_dataset
    ds = open_dataset(tmp_path / "m.zip")
    assert ds.modality == "pianoroll" and ds.item_shape == (1, 64, 84) and ds.label_names == list(MOODS_ORDER)


MOODS_ORDER = ("joyful", "tender", "sombre", "tense")


def test_the_report_page_keeps_each_markdown_table_apart():
    from artforge.metrics.music_eval import _markdown_blocks

    lines = ["| a | b |", "|---|---:|", "| x | 1 |", "", "judges:", "| c |", "|---|", "| y |", "last"]
    assert _markdown_blocks(lines) == [lines[:3], ["", "judges:"], lines[5:8], ["last"]]
