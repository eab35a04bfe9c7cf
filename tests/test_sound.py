"""One-shot sounds: conditioning clips, preparing sound datasets, spectrograms, WaveGAN and SpecGAN on the engine."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import artforge
from artforge.options import AudioPrepareConfig
from artforge.data import sound
from artforge.data.archive import open_dataset
from artforge.data.audio_ingest import prepare_audio
from artforge.errors import DataError, UsageError

sf = pytest.importorskip("soundfile")

RATE = 22050


def tone(freq: float, seconds: float, rate: int = RATE, decay: float = 4.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t) * np.exp(-decay * t)).astype(np.float32)


def dominant_frequency(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


# ----------------------------------------------------------------------------- conditioning a clip

def test_resampling_keeps_a_tone_s_pitch_and_removes_what_the_new_rate_cannot_hold():
    x = tone(1000.0, 1.0, 44100, decay=0)
    y = sound.resample(x, 44100, 16000)
    assert len(y) == 16000
    assert abs(dominant_frequency(y, 16000) - 1000.0) < 2.0
    high = tone(11000.0, 1.0, 44100, decay=0)  # above 16 kHz's Nyquist frequency: must not alias to 5 kHz
    assert np.sqrt(np.mean(sound.resample(high, 44100, 16000)[500:-500] ** 2)) < 0.01 * np.sqrt(np.mean(high ** 2))


def test_condition_moves_the_onset_to_zero_trims_pads_and_normalizes():
    silence = np.zeros(int(0.3 * RATE), dtype=np.float32)
    x = np.concatenate([silence, tone(220.0, 0.2), silence])
    item = sound.condition(x, RATE, sound.AudioOptions(sample_rate=16000, length=16384))
    assert item.shape == (16384,) and item.dtype == np.float32
    assert abs(float(np.abs(item).max()) - sound.PEAK) < 1e-4
    loud = np.nonzero(np.abs(item) > 0.05)[0]
    assert loud[0] < 2 * sound.ONSET_FRAME  # the burst starts (within a frame of lead-in) at t = 0
    assert np.all(item[int(0.21 * 16000):] == 0)  # trailing silence trimmed, then padded with zeros


def test_condition_crops_a_long_clip_with_a_fade_and_rejects_silence_and_short_clicks():
    long = tone(330.0, 3.0, decay=0.1)
    item = sound.condition(long, RATE, sound.AudioOptions(length=16384))
    assert item.shape == (16384,) and abs(item[-1]) < 1e-3  # faded out at the cut: no click
    with pytest.raises(sound.AudioReject, match="silent"):
        sound.condition(np.zeros(RATE, np.float32), RATE, sound.AudioOptions())
    click = np.zeros(RATE, np.float32)
    click[100:110] = 0.5
    with pytest.raises(sound.AudioReject, match="too short"):
        sound.condition(click, RATE, sound.AudioOptions(min_seconds=0.05))


def test_decode_reads_stereo_as_mono_and_rejects_what_is_not_audio(tmp_path):
    stereo = np.stack([tone(440, 0.1), -tone(440, 0.1) * 0.5], axis=1)
    path = tmp_path / "s.flac"
    sf.write(path, stereo, RATE)
    mono, rate = sound.decode(path.read_bytes())
    assert rate == RATE and mono.ndim == 1 and np.allclose(mono, stereo.mean(axis=1), atol=1e-4)
    with pytest.raises(sound.AudioReject, match="not a readable audio file"):
        sound.decode(b"RIFF....WAVEfmt garbage" * 10)


def test_wav_bytes_round_trip_as_16_bit():
    x = tone(500, 0.05)
    pcm, rate = sound.read_pcm16(sound.wav_bytes(x, 16000))
    assert rate == 16000 and pcm.dtype == np.int16 and np.abs(pcm / 32767.0 - x).max() < 1e-4


# ----------------------------------------------------------------------------- prepare audio

@pytest.fixture
def sound_folder(tmp_path):
    root = tmp_path / "sounds"
    for label, freq in (("kick", 60.0), ("snare", 900.0)):
        (root / label).mkdir(parents=True)
        for i in range(5):
            lead = np.zeros(int(0.05 * i * RATE), np.float32)
            sf.write(root / label / f"{label}{i}.wav", np.concatenate([lead, tone(freq * (1 + 0.1 * i), 0.4)]), RATE)
    (root / "kick" / "copy.wav").write_bytes((root / "kick" / "kick0.wav").read_bytes())
    (root / "snare" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    sf.write(root / "snare" / "quiet.wav", np.zeros(RATE // 2, np.float32), RATE)
    (root / "snare" / "notes.txt").write_text("not a sound")
    return root


def test_prepare_audio_counts_files_and_a_cancelled_one_writes_nothing(sound_folder, tmp_path):
    from artforge.utils.events import CancelToken, Cancelled

    seen = []
    prepare_audio(AudioPrepareConfig(source=str(sound_folder), out=str(tmp_path / "done" / "ds.zip")),
                  events=seen.append)
    counts = [e.fields for e in seen if e.kind == "progress"]
    assert counts[-1] == {"done": 13, "total": 13, "what": "files", "stage": "prepare sounds"}
    token = CancelToken()
    with pytest.raises(Cancelled):
        prepare_audio(AudioPrepareConfig(source=str(sound_folder), out=str(tmp_path / "stopped" / "ds.zip")),
                      events=lambda e: token.cancel(), cancel=token)
    assert list((tmp_path / "stopped").iterdir()) == []  # no zip, manifest, rejects or spool


def test_prepare_audio_conditions_labels_splits_and_reports(sound_folder, tmp_path):
    before = {p: p.read_bytes() for p in sound_folder.rglob("*") if p.is_file()}
    result = prepare_audio(AudioPrepareConfig(source=str(sound_folder), out=str(tmp_path / "ds.zip")))
    assert result.count == 10 and result.manifest["label_names"] == ["kick", "snare"]
    reasons = {r["file"]: r["reason"] for r in result.rejects}
    assert "not a readable audio file" in reasons["snare/broken.wav"] and "silent" in reasons["snare/quiet.wav"]
    assert [d["file"] for d in result.duplicates] == ["kick/kick0.wav"] or \
        [d["duplicate_of"] for d in result.duplicates] == ["kick/copy.wav"]
    assert result.manifest["ignored_extensions"] == {".txt": 1}
    ds = open_dataset(result.path)
    assert ds.modality == "audio" and ds.sample_rate == 16000 and ds.item_shape == (1, 16384)
    assert sorted(np.bincount(ds.labels).tolist()) == [5, 5]
    item = ds.read_item(0)
    assert item.dtype == np.int16 and item.shape == (1, 16384) and np.abs(item).max() > 30000
    with zipfile.ZipFile(result.path) as zf:  # the items are playable WAVs
        name = next(n for n in zf.namelist() if n.endswith(".wav"))
        assert sf.info(zf.open(name)).samplerate == 16000
    assert {p: p.read_bytes() for p in sound_folder.rglob("*") if p.is_file()} == before  # the source is untouched


def test_prepare_audio_refuses_a_folder_without_sounds_and_names_the_fix(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.png").write_bytes(b"x")
    with pytest.raises(DataError, match="holds no sounds"):
        prepare_audio(AudioPrepareConfig(source=str(tmp_path / "empty"), out=str(tmp_path / "x.zip")))


def test_prepare_audio_cli_one_line_error(tmp_path, capsys):
    from artforge.cli import main
    assert main(["prepare", "audio", str(tmp_path / "nowhere")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("artforge prepare audio: error: source") and "fix:" in err[0]


# ----------------------------------------------------------------------------- spectrograms, phase shuffle

def test_griffin_lim_recovers_a_known_magnitude():
    from artforge.ops.spectral import full_magnitude, griffin_lim, log_magnitude, spectral_convergence, stft

    t = torch.arange(16384) / 16000
    x = (torch.sin(2 * torch.pi * 440 * t) * torch.exp(-3 * t) + 0.3 * torch.sin(2 * torch.pi * 1900 * t))[None]
    target = stft(x).abs()
    mag = full_magnitude(log_magnitude(x))
    errors = [spectral_convergence(target, stft(griffin_lim(mag, 16384, iters, generator=torch.Generator().manual_seed(0))).abs())
              for iters in (0, 32)]
    assert errors[1] < 0.2 < errors[0]  # random phases are far off; 32 iterations come close


def test_phase_shuffle_shifts_each_item_within_n_and_reflects_the_edge():
    from torch.nn import functional as F

    from artforge.models.wavegan import phase_shuffle

    x = torch.randn(8, 3, 40, requires_grad=True)
    y = phase_shuffle(x, 2, torch.Generator().manual_seed(5))
    shifts = torch.randint(-2, 3, (8, 1), generator=torch.Generator().manual_seed(5))[:, 0].tolist()
    padded = F.pad(x.detach(), (2, 2), mode="reflect")
    for i, s in enumerate(shifts):
        assert torch.equal(y[i].detach(), padded[i, :, 2 - s:42 - s])
    assert len(set(shifts)) > 1
    y.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert phase_shuffle(x, 0) is x


def test_specgan_encoding_is_normalized_and_inverts_to_the_same_spectrogram():
    from artforge.models.specgan import SpecGANConfig, SpecGenerator
    from artforge.ops.spectral import log_magnitude

    G = SpecGenerator(SpecGANConfig(width=2, z_dim=4))
    t = torch.arange(16384) / 16000
    waves = torch.stack([torch.sin(2 * torch.pi * f * t) * torch.exp(-5 * t) for f in (200, 400, 800, 1600)])[:, None]
    G.fit_data(waves)
    spec = G.encode_real(waves)
    assert spec.shape == (4, 1, 128, 128) and spec.abs().max() <= 1.0
    assert spec.mean(dim=(0, 1, 3)).abs().max() < 0.05  # each frequency bin centred by the data's own mean
    back = G.to_wave(spec, torch.Generator().manual_seed(0))
    err = (log_magnitude(back[:, 0]) - log_magnitude(waves[:, 0] / waves.abs().amax(dim=2) * 0.95)).abs()
    loud = log_magnitude(waves[:, 0]) > -4  # where there is sound: the clipped quiet floor does not count
    assert err[loud].median() < 0.5


# ----------------------------------------------------------------------------- training, resume, sampling

TINY = dict(batch=4, width=2, z_dim=8, tick=2, eval_images=16, progress=False, checkpoint_every=100)


@pytest.fixture
def sound_dataset(sound_folder, tmp_path):
    return prepare_audio(AudioPrepareConfig(source=str(sound_folder), out=str(tmp_path / "sounds.zip"))).path


@pytest.mark.parametrize("arch", ["wavegan", "specgan"])
def test_sound_families_train_resume_exactly_and_sample_wavs_with_players(arch, sound_dataset, tmp_path):
    opts = dict(TINY, arch=arch, n_critic=2)
    full = artforge.train(sound_dataset, out=tmp_path / "a", steps=4, **opts)
    part = artforge.train(sound_dataset, out=tmp_path / "b", steps=2, **opts)
    resumed = artforge.train(resume=part.run_dir, steps=4)
    from artforge.runs import checkpoint as ckpt
    wa = ckpt.load_checkpoint(full.checkpoint)["models"]
    wb = ckpt.load_checkpoint(resumed.checkpoint)["models"]
    assert all(torch.equal(wa[net][k], wb[net][k]) for net in wa for k in wa[net])
    options = json.loads((full.run_dir / "options.json").read_text())
    assert options["model"]["sample_rate"] == 16000 and options["model"]["num_classes"] == 2
    assert options["train"]["augment"] == [] and options["train"]["recipe"] == "wavegan-cpu"
    from artforge.cli import main
    out = tmp_path / "samples"
    assert main(["sample", str(full.run_dir), "--n", "3", "--label", "snare", "--out", str(out)]) == 0
    wav, rate = sf.read(out / "seed0001.wav")
    assert rate == 16000 and wav.shape == (16384,) and np.isfinite(wav).all()
    record = json.loads((out / "seed0001.json").read_text())
    assert record["seed"] == 1 and record["label"] == 1 and record["model"]["arch"] == arch
    page = (out / "index.html").read_text()
    assert page.count("<audio") == 3 and 'src="seed0002.wav"' in page and "snare" in page
    again = tmp_path / "again"
    assert main(["sample", str(full.run_dir), "--seeds", "1", "--label", "snare", "--out", str(again)]) == 0
    assert np.array_equal(sf.read(again / "seed0001.wav")[0], wav)  # a seed gives the same sound alone
    row = tmp_path / "row"
    assert main(["sample", str(full.run_dir), "--between", "1,2", "--n", "4", "--label", "snare", "--out", str(row)]) == 0
    assert sorted(p.name for p in row.glob("step*.wav")) == [f"step0{i}.wav" for i in range(4)]
    assert np.abs(sf.read(row / "step00.wav")[0] - wav).max() < 1e-2  # the row starts at seed 1's sound
    assert np.abs(sf.read(row / "step03.wav")[0] - sf.read(out / "seed0002.wav")[0]).max() < 1e-2


def test_like_projects_a_sound_and_draws_neighbours(sound_dataset, sound_folder, tmp_path):
    run = artforge.train(sound_dataset, out=tmp_path / "run", arch="specgan", steps=2, **TINY).run_dir
    result = artforge.sample(run, like=sound_folder / "kick" / "kick1.wav", n=2, out=tmp_path / "like")
    names = sorted(p.name for p in (tmp_path / "like").glob("*.wav"))
    assert names == ["like.wav", "seed0000.wav", "seed0001.wav", "target.wav"] and len(result["files"]) == 3
    record = json.loads((tmp_path / "like" / "like.json").read_text())
    written, rate = sf.read(tmp_path / "like" / "target.wav")
    samples, source_rate = sound.decode((sound_folder / "kick" / "kick1.wav").read_bytes())
    target = sound.condition(samples, source_rate, sound.AudioOptions(sample_rate=16000, length=16384))
    assert rate == 16000 and np.abs(written - target).max() < 1e-4  # the user's sound, prepared as the training clips were
    # The distance it reports is that of the latent it wrote, recomputed here, and the projection
    # beats where it started from (a random latent of the same label).
    got, start = _spectral_l1(run, record, target), _spectral_l1(run, {**record, "z": None}, target)
    assert record["settings"]["projection_l1"] == pytest.approx(got, rel=1e-4)
    assert got < start
    page = artforge.report(run).read_text()  # the report plays the best checkpoint's sounds
    assert page.count("<audio controls src=\"data:audio/wav;base64,") == 8 and "Sounds of the best checkpoint" in page


def _spectral_l1(run, record: dict, target: np.ndarray) -> float:
    """Mean absolute difference of the log spectrograms of the sound of ``record``'s latent and label
    (seed 0's latent where it has none) and ``target``, as a SpecGAN sees them."""
    from artforge.provenance import decode_array

    model = artforge.load(run)
    z = torch.from_numpy(decode_array(record["z"]))[None] if record["z"] else model.latents([0])
    with torch.no_grad():
        made = model.G(z, torch.tensor([record["label"]]))
        goal = model.G.encode_real(torch.from_numpy(target.astype(np.float32))[None, None])
    return float((made - goal).abs().mean())


def test_image_architectures_refuse_sounds_and_sound_ones_refuse_images(sound_dataset, blob_dataset, tmp_path):
    with pytest.raises(UsageError, match="--arch dcgan makes images; dataset .* holds sounds"):
        artforge.train(sound_dataset, out=tmp_path, steps=1, arch="dcgan")
    with pytest.raises(UsageError, match="--arch wavegan makes sounds; dataset .* holds images"):
        artforge.train(blob_dataset, out=tmp_path, steps=1, arch="wavegan")
    with pytest.raises(UsageError, match="--augment flip transforms images"):
        artforge.train(sound_dataset, out=tmp_path, steps=1, arch="wavegan", augment=("flip",))


def test_evaluate_scores_a_sound_run_beside_real_clips(sound_folder, tmp_path, monkeypatch):
    from artforge.metrics import sound as sound_metrics

    sound_dataset = prepare_audio(AudioPrepareConfig(source=str(sound_folder), out=str(tmp_path / "s.zip"),
                                                     split=(0.6, 0.2, 0.2))).path

    monkeypatch.setattr(sound_metrics, "CLASSIFIER_STEPS", 30)
    monkeypatch.setenv("ARTFORGE_CACHE", str(tmp_path / "cache"))
    run = artforge.train(sound_dataset, out=tmp_path / "run", arch="wavegan", steps=2, **TINY).run_dir
    report = artforge.evaluate(run, n=6)
    assert report["kind"] == "sound" and report["n"] == 6
    fake, real = report["generated"], report["real_held_out"]
    # The held-out clips are tones of the trained kinds (60 Hz kicks, 900 Hz snares): the classifier
    # hears their labels and both kinds, and they sit nearer the training clips than two-step noise.
    assert real["label_accuracy"] == 1.0 and real["inception_score"] > fake["inception_score"]
    assert real["frechet_distance"] < fake["frechet_distance"]
    assert fake["times_real_time"] > 1  # 6 clips, 6.1 s of sound, from a tiny network in well under that
    assert real["novelty_ratio"] == pytest.approx(1.0)  # held-out clips are the novelty yardstick
    assert json.loads(Path(report["path"]).read_text())["kind"] == "sound"


def test_inception_score_of_known_probabilities():
    from artforge.metrics.sound import inception_score

    assert inception_score(np.eye(4)) == pytest.approx(4.0)  # confident and balanced: the class count
    assert inception_score(np.full((5, 4), 0.25)) == pytest.approx(1.0)  # undecided: 1
    assert inception_score(np.tile([1.0, 0, 0, 0], (6, 1))) == pytest.approx(1.0)  # one class only: 1


def test_prepare_audio_command(sound_folder, tmp_path, capsys):
    from artforge.cli import main

    assert main(["prepare", "audio", str(sound_folder), "--out", str(tmp_path / "s.zip"), "--sample-rate", "22050",
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "prepared 10 sounds, 16,384 samples at 22,050 Hz" in out and "2 classes (kick, snare)" in out
    assert open_dataset(tmp_path / "s.zip").sample_rate == 22050
