"""The picture in docs/sound-music.md: chorales of each mood, and one seed's pieces asked for each mood,
by the label alone and steered. Usage: python docs/scripts/music_moods.py RUN [DATASET] [SEED]"""
import sys

import numpy as np
import torch
from PIL import Image, ImageDraw
import artforge.composing as C
from artforge.sampling import load
from artforge.data.archive import open_dataset
from artforge.data.pianoroll import render_roll_png
from artforge.metrics.mood import measure_mood, quadrant
m = load(sys.argv[1], announce=lambda *a: None)
spec = C.roll_spec(m); ref = m.extras["mood_reference"]
ds = open_dataset(sys.argv[2] if len(sys.argv) > 2 else "datasets/bach-4bars.zip")
tr = ds.indices("train")
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 2
rows = []
chorales = [ds.read_item(int(tr[np.nonzero(ds.labels[tr] == k)[0][3]])) for k in range(4)]
z = m.latents([seed] * 4); c = torch.arange(4)
alone = C.render_rolls(m, z, c)
steered = C.render_rolls(m, C.steer_latents(m, z, c, 50), c)  # sample's default --mood-steps
def heard(r, k):
    q = measure_mood(r, spec, C.tempo_for(m, k, None), ref); return quadrant(q["valence"], q["arousal"])
W, H, top = 128, 168, 26
crop = (0, 40, 128, 150)  # pitch rows with notes (rendered top = high)
img = Image.new("RGB", (4 * (W + 4), 3 * (crop[3]-crop[1] + top + 4)), "white")
d = ImageDraw.Draw(img)
for r, (name, rolls) in enumerate((("chorale", chorales), ("label alone", alone), ("steered", steered))):
    for k in range(4):
        pic = render_roll_png(rolls[k], spec).crop(crop)
        x, y = k * (W + 4), r * (crop[3]-crop[1] + top + 4)
        img.paste(pic, (x, y + top))
        cap = f"chorale: {C.MOODS[k]}" if r == 0 else f"{name}: asked {C.MOODS[k]}\nheard {heard(rolls[k], k)}"
        d.multiline_text((x + 2, y + 1), cap, fill="black", spacing=1)
img.save("docs/images/music-moods.png"); print(img.size)
