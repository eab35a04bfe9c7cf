"""The built-in music corpora, from music21's bundled corpus, so nothing is downloaded.

* ``bach_chorale_scores``: the 371 Bach chorales of ``music21.corpus.chorales.Iterator``
  (Riemenschneider numbering), keeping those with exactly four parts (SATB): 351 of them (315 in
  4/4, 35 in 3/4), 1,388 four-bar rolls. Loading all takes about 50 s (music21 parsing).
* ``folk_tune_scores``: single-melody tunes; by default ``airdsAirs`` (James Aird, "A Selection of
  Scotch, English, Irish and Foreign Airs", 1778-1803, transcribed by Jack Campin): 1,178 readable
  tunes in 6 ABC books, nearly all with a tempo mark (40-360 quarter-note BPM, median 132), 86%
  major and 14% minor by ``detect_key``, in 4/4 or 2/2 (504), 6/8 or 3/4 (388), 2/4 (241) and a
  few others; 4,592 four-bar rolls. Loading all takes about 2 minutes. ``essenFolksong`` (8,514
  German/Chinese folksongs, no tempo marks), ``oneills1850`` (2,009 Irish tunes) and
  ``ryansMammoth`` (1,059 American dance tunes) can be chosen instead.

music21 is imported inside the functions: importing it takes seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the type hints only: the import is slow
    import music21


def bar_quarters(score: music21.stream.Score) -> float | None:
    """Quarter notes per bar of the score's first time signature (None when it has none)."""
    from music21 import meter

    ts = next(iter(score.recurse().getElementsByClass(meter.TimeSignature)), None)
    return float(ts.barDuration.quarterLength) if ts is not None else None


def bach_chorale_scores(limit: int | None = None,
                        quarters_per_bar: float | None = None) -> Iterator[tuple[str, music21.stream.Score]]:
    """``(name, score)`` for the four-part (SATB) Bach chorales of music21's bundled corpus.

    In Riemenschneider order; 351 of the 371 chorales have exactly four parts (the others add
    instrumental parts). ``quarters_per_bar`` keeps only pieces in that metre (4 = 4/4, 3 = 3/4).
    """
    from music21 import corpus
    from music21.corpus import chorales

    count = 0
    for name in chorales.Iterator(returnType="filename"):
        if limit is not None and count >= limit:
            return
        score = corpus.parse(name)
        if len(score.parts) != 4:
            continue
        if quarters_per_bar is not None and bar_quarters(score) != quarters_per_bar:
            continue
        count += 1
        yield name, score


FOLK_COLLECTIONS = ("airdsAirs", "essenFolksong", "oneills1850", "ryansMammoth")


def folk_tune_scores(limit: int | None = None, collection: str = "airdsAirs",
                     quarters_per_bar: float | None = None) -> Iterator[tuple[str, music21.stream.Score]]:
    """``(name, score)`` for the single-melody tunes of one of music21's bundled ABC collections.

    ``airdsAirs`` by default (1,178 tunes, most with a tempo mark; see the module docstring). Tunes
    are parsed one at a time (by their ``X:`` number) so a small ``limit`` stays fast. The name is
    ``collection/file.abc#number title``. ``quarters_per_bar`` keeps one metre (2/4 = 2, 6/8 = 3).
    """
    from music21 import corpus

    if collection not in FOLK_COLLECTIONS:
        raise ValueError(f"unknown folk collection {collection!r}; one of {', '.join(FOLK_COLLECTIONS)}")
    paths = sorted(Path(p) for p in corpus.getCorePaths() if Path(p).parent.name == collection)
    count = 0
    for path in paths:
        numbers = [int(x) for x in re.findall(r"^X:\s*(\d+)", path.read_text(encoding="latin-1"), re.M)]
        for number in dict.fromkeys(numbers):  # unique, in file order
            if limit is not None and count >= limit:
                return
            try:
                score = corpus.parse(str(path), number=number)
            except Exception:  # a few transcriptions music21 cannot read: skip them
                continue
            if not hasattr(score, "parts") or len(score.parts) != 1 or not score.flatten().notes:
                continue
            if quarters_per_bar is not None and bar_quarters(score) != quarters_per_bar:
                continue
            count += 1
            title = (score.metadata.title if score.metadata is not None else None) or ""
            yield f"{collection}/{path.name}#{number} {title}".strip(), score
