"""Offline MIDI rendering with the FluidSynth program and a General MIDI soundfont.

FluidSynth (Debian ``fluidsynth``) is run as a command (``fluidsynth -ni -F out.wav ...``): no Python
binding to build, no audio device, faster than real time. Soundfonts are looked up where Debian's
``fluid-soundfont-gm`` and ``timgm6mb-soundfont`` put them, or passed as a path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..errors import DataError

SOUNDFONT_DIRS = ("/usr/share/sounds/sf2", "/usr/share/soundfonts", "/usr/local/share/soundfonts",
                  "/opt/homebrew/share/soundfonts")
# name -> file, in order of preference; the Debian package that installs each
SOUNDFONTS = {"fluidr3": ("FluidR3_GM.sf2", "fluid-soundfont-gm"), "timgm6mb": ("TimGM6mb.sf2", "timgm6mb-soundfont")}
HOW_TO_GET = ("install FluidSynth and a General MIDI soundfont: 'sudo apt install fluidsynth fluid-soundfont-gm "
              "timgm6mb-soundfont' (Debian/Ubuntu) or 'brew install fluid-synth' plus an .sf2 file")


def fluidsynth_program() -> str | None:
    return shutil.which("fluidsynth")


def find_soundfont(name: str | None = None) -> Path | None:
    """A soundfont by its short name (``SOUNDFONTS``) or the first one installed; None if there is none."""
    names = [name] if name else list(SOUNDFONTS)
    for key in names:
        filename = SOUNDFONTS[key][0] if key in SOUNDFONTS else key
        for folder in SOUNDFONT_DIRS:
            path = Path(folder) / filename
            if path.is_file():
                return path
    return None


def installed_soundfonts() -> dict[str, Path]:
    """Short name -> path of every known soundfont that is installed."""
    return {key: path for key in SOUNDFONTS if (path := find_soundfont(key)) is not None}


def can_render() -> bool:
    return fluidsynth_program() is not None and find_soundfont() is not None


def render_midi_file(midi: str | os.PathLike, out_wav: str | os.PathLike, sample_rate: int = 44100,
                     soundfont: str | os.PathLike | None = None, gain: float = 0.6) -> Path:
    """Render a MIDI file to a WAV (stereo, 16-bit, ``sample_rate``) with FluidSynth; DataError with the
    fix when FluidSynth or a soundfont is missing or the render fails."""
    program = fluidsynth_program()
    font = Path(soundfont) if soundfont else find_soundfont()
    if program is None or font is None or not font.is_file():
        missing = "the fluidsynth program" if program is None else f"the soundfont {font or '(none found)'}"
        raise DataError(f"cannot render MIDI: {missing} is not installed", HOW_TO_GET)
    out_wav = Path(out_wav)
    cmd = [program, "-ni", "-q", "-g", str(gain), "-r", str(int(sample_rate)), "-F", str(out_wav), "-T", "wav",
           str(font), str(midi)]
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not out_wav.is_file():
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise DataError(f"FluidSynth could not render {midi} ({detail[0]})", "check the MIDI file and the soundfont")
    return out_wav
