"""``sample``: a trained run's outputs by seed, with provenance: images and a grid, sounds or music with
a page of players. Notes on the way (which run of a folder was picked) are "note" events."""

from __future__ import annotations

from ..utils.events import Event


def sample(options: dict, events=None, cancel=None) -> dict:
    from ..config import SampleConfig
    from ..sampling import sample_to_folder

    return sample_to_folder(SampleConfig(**options), announce=_notes(events))


def sample_summary(result: dict, options: dict | None = None) -> list[str]:
    from ..modality import of_samples

    return of_samples(result).sample_lines(result)


def _notes(events):
    def announce(text: str) -> None:
        if events is not None:
            events(Event("note", None, {"text": str(text)}))
    return announce
