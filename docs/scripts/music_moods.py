"""The picture in docs/sound-music.md: chorales of each mood, and one seed's pieces asked for each mood,
by the label alone and steered, each captioned with the mood the independent judges hear
(metrics/mood_judges.py; not the steering objective). Usage: python docs/scripts/music_moods.py RUN [DATASET] [SEED]"""
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw
import artforge.composing as C
from artforge.sampling import load
from artforge.data.archive import open_dataset
from artforge.data.pianoroll import render_roll_png
from artforge.metrics import mood_judges as J
from artforge.metrics.music_eval import calibrated_judges
m = load(sys.argv[1], announce=lambda *a: None)
spec = C.roll_spec(m)
ds = open_dataset(sys.argv[2] if len(sys.argv) > 2 else "datasets/bach-4bars.zip")
tr = ds.indices("train")
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 2
rows = []
chorales = [ds.read_item(int(tr[np.nonzero(ds.labels[tr] == k)[0][3]])) for k in range(4)]
z = m.latents([seed] * 4); c = torch.arange(4)
alone = C.render_rolls(m, z, c)
steered = C.render_rolls(m, C.steer_latents(m, z, c, 50), c)  # sample's default --mood-steps
_, _, thresholds = calibrated_judges(ds, spec)  # arousal thresholds: the calibration half of the real pieces
tempos = [ds.manifest["items"][int(tr[np.nonzero(ds.labels[tr] == k)[0][3]])]["tempo"] for k in range(4)]
tempos += [C.tempo_for(m, k, None) for k in range(4)] * 2
verdicts = J.judge_pieces(np.concatenate([np.stack(chorales), alone, steered]), spec, tempos, thresholds)
def heard(r, k):
    return verdicts[4 * r + k]["mood"] or "undecided"
W, H, top = 128, 168, 26
crop = (0, 40, 128, 150)  # pitch rows with notes (rendered top = high)
img = Image.new("RGB", (4 * (W + 4), 3 * (crop[3]-crop[1] + top + 4)), "white")
d = ImageDraw.Draw(img)
for r, (name, rolls) in enumerate((("chorale", chorales), ("label alone", alone), ("steered", steered))):
    for k in range(4):
        pic = render_roll_png(rolls[k], spec).crop(crop)
        x, y = k * (W + 4), r * (crop[3]-crop[1] + top + 4)
        img.paste(pic, (x, y + top))
        cap = (f"chorale: {C.MOODS[k]}" if r == 0 else f"{name}: asked {C.MOODS[k]}") + f"\njudged {heard(r, k)}"
        d.multiline_text((x + 2, y + 1), cap, fill="black", spacing=1)
img.save("docs/images/music-moods.png"); print(img.size)
