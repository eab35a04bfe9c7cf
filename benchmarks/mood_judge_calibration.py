"""How each mood judge agrees with a music dataset's own labels, on the CALIBRATION half of its training
pieces only (the half the arousal thresholds come from; metrics/mood_judges.py). This is where the
judges' design was chosen (which audio features vote, the onset detector's threshold); the agreement
that evaluate reports as the ceiling is on the other half. Prints a Markdown table:

    python benchmarks/mood_judge_calibration.py                       # datasets/bach-4bars.zip
    python benchmarks/mood_judge_calibration.py datasets/bach-4bars.zip --json out.json

Per judge: the share of calibration excerpts on which it agrees with the label's sign on its axis
(audio features: above the calibration median = lively), with the 95% Wilson interval, and for the
audio features the Spearman correlation with the excerpt's note density (from the manifest). Also the
onset rate at librosa's default threshold (delta 0.07) beside the judges' 0.02. Renders the
calibration half once with FluidSynth (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def measure(dataset_path: str) -> list[dict]:
    import librosa
    from scipy.stats import spearmanr

    from artforge.data.archive import open_dataset
    from artforge.metrics import mood_judges as J
    from artforge.data.mood import MOOD_SIGNS

    ds = open_dataset(dataset_path)
    items = ds.manifest["items"]
    train = np.zeros(len(ds), bool)
    train[ds.indices("train")] = True
    calibration = np.nonzero(J.calibration_split([it["piece"] for it in items], train))[0]
    rolls = np.stack([ds.read_item(int(i)) for i in calibration])
    tempos = [float(items[i].get("tempo") or 120.0) for i in calibration]
    moods = [items[i]["mood"] for i in calibration]
    density = np.array([items[i]["density"] for i in calibration])
    verdicts = J.judge_pieces(rolls, ds.spec, tempos, None)
    waves = J.render_pieces(rolls, ds.spec, tempos)
    default_onsets = [len(librosa.onset.onset_detect(y=w, sr=J.AUDIO_RATE)) / (len(w) / J.AUDIO_RATE) for w in waves]
    valence_wanted = np.array([MOOD_SIGNS[m][0] for m in moods])
    lively = np.array([MOOD_SIGNS[m][1] > 0 for m in moods])
    rows = []

    def row(name: str, agree: np.ndarray, rho: float | None = None) -> None:
        low, high = J.wilson_interval(int(agree.sum()), len(agree))
        rows.append({"judge": name, "n": len(agree), "agreement": float(agree.mean()), "low": low, "high": high,
                     "spearman_with_density": rho})

    for key, name in (("valence_profiles", "valence: key profiles (TemperleyKostkaPayne)"),
                      ("valence_harmony", "valence: most-sounded triad")):
        row(name, np.array([v[key] for v in verdicts]) == valence_wanted)
    both = np.array([J.combined_valence(v["valence_profiles"], v["valence_harmony"]) for v in verdicts])
    row("valence: both (the verdict)", both == valence_wanted)
    features = {k: np.array([v["audio"][k] for v in verdicts]) for k in J.AUDIO_FEATURES}
    features["onset_rate at delta 0.07 (librosa's default)"] = np.array(default_onsets)
    for name, values in features.items():
        row(f"arousal: {name}", (values > np.median(values)) == lively, float(spearmanr(values, density)[0]))
    thresholds = J.arousal_thresholds([v["audio"] for v in verdicts])
    majority = np.array([J.arousal_from_audio(v["audio"], thresholds)["arousal"] > 0 for v in verdicts])
    row("arousal: majority of onset rate, beat rate, RMS (the verdict)", majority == lively)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", default="datasets/bach-4bars.zip")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    from cpuinfo import describe

    from artforge.errors import ArtforgeError

    started = time.perf_counter()
    try:
        rows = measure(args.dataset)
    except ArtforgeError as e:  # a missing dataset, librosa or FluidSynth: one line, no traceback
        sys.exit(f"mood_judge_calibration: {e}")
    except ImportError as e:
        sys.exit(f"mood_judge_calibration: {e.name} is missing; fix: pip install 'artforge[music]'")
    print(f"CPU: {describe()}; {args.dataset}, calibration half; {time.perf_counter() - started:.0f} s\n")
    print("| judge | excerpts | agrees with the labels [95%] | Spearman with note density |")
    print("|---|---:|---:|---:|")
    for r in rows:
        rho = "" if r["spearman_with_density"] is None else f"{r['spearman_with_density']:+.2f}"
        print(f"| {r['judge']} | {r['n']} | {r['agreement']:.1%} [{r['low']:.1%}, {r['high']:.1%}] | {rho} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
