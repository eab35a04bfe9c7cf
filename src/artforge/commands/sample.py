"""``sample``: a trained run's outputs by seed, with provenance: images and a grid, sounds or music with
a page of players. Notes on the way (which run of a folder was picked) are "note" events."""

from __future__ import annotations

from ..utils.events import announcer


def sample(options: dict, events=None, cancel=None) -> dict:
    from ..options import SampleConfig
    from ..sampling import sample_to_folder

    return sample_to_folder(SampleConfig(**options), announce=announcer(events))


def sample_summary(result: dict, options: dict | None = None) -> list[str]:
    from ..modality import of_samples

    return of_samples(result).sample_lines(result)

