"""The built-in 'drums': General MIDI percussion hits rendered offline with FluidSynth.

Each installed General MIDI soundfont (Debian's ``fluid-soundfont-gm``, FluidR3, MIT licence; and
``timgm6mb-soundfont``, TimGM6mb, GPL-2) plays every drum of the GM percussion map below at several
velocities. One MIDI file per soundfont holds all the hits, a few seconds apart, so FluidSynth
loads each soundfont once; the render is then cut into one WAV per hit, filed in a folder per
drum kind (the labels). The folder then goes through ``prepare audio`` like any user's sounds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError

# General MIDI level 1 percussion keys (channel 10), grouped into the kinds a producer picks from.
DRUM_KINDS: dict[str, tuple[int, ...]] = {
    "kick": (35, 36),  # acoustic bass drum, bass drum 1
    "snare": (37, 38, 40),  # side stick, acoustic snare, electric snare
    "clap": (39,),  # hand clap
    "hat": (42, 44, 46),  # closed, pedal, open hi-hat
    "tom": (41, 43, 45, 47, 48, 50),  # low floor ... high tom
    "cymbal": (49, 51, 52, 53, 55, 57, 59),  # crash 1, ride 1, chinese, ride bell, splash, crash 2, ride 2
    "shaker": (54, 69, 70, 82),  # tambourine, cabasa, maracas, shaker
    "block": (56, 75, 76, 77),  # cowbell, claves, hi and low wood block
}
VELOCITIES = (40, 64, 88, 112, 127)
SPACING = 3.0  # seconds between hits: longer than any hit rings at the lengths we keep
RENDER_RATE = 44100
LICENCES = {"fluidr3": "FluidR3_GM (Frank Wen), MIT licence", "timgm6mb": "TimGM6mb (Tim Brechbill), GPL-2"}


def hit_list() -> list[tuple[str, int, int]]:
    """(kind, GM key, velocity) of every hit one soundfont plays."""
    return [(kind, key, vel) for kind, keys in DRUM_KINDS.items() for key in keys for vel in VELOCITIES]


def _hits_midi(path: Path, hits: list[tuple[str, int, int]]) -> None:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    for i, (_, key, vel) in enumerate(hits):
        start = 0.5 + i * SPACING
        drums.notes.append(pretty_midi.Note(velocity=vel, pitch=key, start=start, end=start + 0.25))
    pm.instruments.append(drums)
    pm.write(str(path))


def render_drums(folder: Path, progress=None) -> dict:
    """Render every hit with every installed soundfont into ``folder/<kind>/<font>-<key>-v<vel>.wav``;
    returns the manifest's credits. DataError with the fix when FluidSynth or the soundfonts are missing."""
    import soundfile as sf

    from ..utils.synth import HOW_TO_GET, can_render, installed_soundfonts, render_midi_file

    fonts = installed_soundfonts()
    if not can_render() or not fonts:
        raise DataError("the built-in drums need FluidSynth and a General MIDI soundfont, which are not installed",
                        HOW_TO_GET)
    hits = hit_list()
    midi = folder / "hits.mid"
    folder.mkdir(parents=True, exist_ok=True)
    _hits_midi(midi, hits)
    for font, path in fonts.items():
        wav = folder / f"{font}.wav"
        render_midi_file(midi, wav, RENDER_RATE, path)
        audio, rate = sf.read(str(wav), dtype="float32", always_2d=True)
        mono = audio.mean(axis=1)
        for i, (kind, key, vel) in enumerate(hits):
            start = int((0.5 + i * SPACING - 0.01) * rate)  # 10 ms early: the attack is never cut
            clip = mono[start:start + int((SPACING - 0.05) * rate)]
            out = folder / kind / f"{font}-{key}-v{vel}.wav"
            out.parent.mkdir(exist_ok=True)
            sf.write(str(out), clip.astype(np.float32), rate, subtype="FLOAT")
        wav.unlink()
        if progress:
            progress(font)
    midi.unlink()
    return {"license": "; ".join(LICENCES[f] for f in fonts),
            "credits": f"General MIDI drums rendered with FluidSynth from {', '.join(fonts)}"}
