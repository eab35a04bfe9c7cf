"""A training command reports events to its caller and stops cleanly when cancelled from another thread."""

from __future__ import annotations

import threading

import torch
from safetensors.torch import load_file

import artforge
from artforge.runs import checkpoint as ckpt
from artforge.utils.events import CancelToken, Event

from conftest import TINY


def test_cancel_from_another_thread_saves_a_checkpoint_that_resumes(blob_dataset, tmp_path, one_thread):
    token, seen = CancelToken(), []

    def sink(event: Event):
        seen.append(event)
        if event.kind == "tick" and event.step == 4:  # a button in another thread, mid-run
            threading.Thread(target=token.cancel).start()

    result = artforge.train(blob_dataset, out=tmp_path, steps=1000, events=sink, cancel=token,
                            **dict(TINY, tick=2, checkpoint_every=1000))
    assert result.status == "interrupted" and 4 <= result.step < 20
    latest = ckpt.resolve_checkpoint(result.run_dir, "latest")
    assert latest.name == ckpt.checkpoint_name(result.step)  # saved at the step it stopped
    assert [e.step for e in seen if e.kind == "checkpoint"] == [result.step]
    resumed = artforge.train(resume=result.run_dir, steps=result.step + 2)
    assert (resumed.status, resumed.step) == ("finished", result.step + 2)


def test_events_are_the_log_s_lines_in_order_and_progress_counts_up(blob_dataset, tmp_path, one_thread):
    seen = []
    result = artforge.train(blob_dataset, out=tmp_path, steps=6, events=seen.append,
                            **dict(TINY, tick=2, checkpoint_every=3))
    ticks = [e.step for e in seen if e.kind == "tick"]
    assert ticks == [2, 4, 6]
    assert [e.step for e in seen if e.kind == "checkpoint"] == [3, 6]
    assert seen[0].kind == "precision"  # the log's first event, as in log.jsonl
    logged = [line for line in (result.run_dir / "log.jsonl").read_text().splitlines() if '"event"' not in line]
    assert len(logged) == len(ticks)


def test_an_uncancelled_token_changes_nothing(blob_dataset, tmp_path, one_thread):
    """Passing a token and a sink trains the same weights as passing neither (same seed)."""
    plain = artforge.train(blob_dataset, out=tmp_path / "a", steps=4, **TINY)
    watched = artforge.train(blob_dataset, out=tmp_path / "b", steps=4, events=lambda e: None,
                             cancel=CancelToken(), **TINY)
    a = load_file(str(ckpt.resolve_checkpoint(plain.run_dir, "latest") / ckpt.MODEL_FILE))
    b = load_file(str(ckpt.resolve_checkpoint(watched.run_dir, "latest") / ckpt.MODEL_FILE))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
