"""Tests of the run log (runs/monitor.py): per-tick averages, events, truncation on resume."""

from __future__ import annotations

import json
import sys
import time
import types

import pytest
import torch

from artforge.runs.monitor import Monitor, read_log, truncate_log


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ----------------------------------------------------------------------------- report and tick


def test_report_is_averaged_per_tick(tmp_path):
    mon = Monitor(tmp_path, tensorboard=False)
    mon.report("Loss/G", torch.tensor(1.0))
    mon.report("Loss/G", torch.tensor([2.0, 4.0]))  # a tensor counts once, as its mean
    mon.report("Loss/G", 5)
    mon.report("lr", 0.5)
    mon.report("lr", 1.5)
    line = mon.tick(100, kimg=0.4)
    assert line["step"] == 100 and line["kimg"] == 0.4
    assert line["Loss/G"] == pytest.approx((1 + 3 + 5) / 3)
    assert line["lr"] == pytest.approx(1.0)
    assert abs(line["time"] - time.time()) < 60  # the wall-clock time of the tick, in seconds since the epoch

    mon.report("Loss/G", torch.tensor(7.0, dtype=torch.bfloat16))
    second = mon.tick(200)
    assert second["Loss/G"] == pytest.approx(7.0)
    assert "lr" not in second  # nothing reported since the last tick
    mon.close()

    rows = lines(tmp_path / "log.jsonl")
    assert len(rows) == 2
    assert rows[0]["step"] == 100 and rows[0]["Loss/G"] == pytest.approx(3.0) and rows[0]["lr"] == 1.0
    assert rows[1]["step"] == 200 and rows[1]["Loss/G"] == 7.0
    assert mon.history == [line, second]


def test_tick_rounds_floats_and_keeps_non_finite(tmp_path):
    mon = Monitor(tmp_path, tensorboard=False)
    mon.report("x", 1 / 3)
    mon.report("bad", float("nan"))
    line = mon.tick(1)
    assert line["x"] == 0.333333
    assert line["bad"] != line["bad"]  # NaN survives, so the loop can see it
    mon.close()
    row = lines(tmp_path / "log.jsonl")[0]
    assert row["x"] == 0.333333


def test_report_does_not_hold_the_graph(tmp_path):
    mon = Monitor(tmp_path, tensorboard=False)
    w = torch.tensor(2.0, requires_grad=True)
    mon.report("y", w * 3)
    assert not mon._pending["y"][0].requires_grad
    assert mon.tick(1)["y"] == 6.0
    mon.close()


def test_event_lines(tmp_path):
    mon = Monitor(tmp_path, tensorboard=False)
    mon.tick(1)
    ev = mon.event(5, "health", check="d_wins", message="D wins")
    assert ev["event"] == "health" and ev["step"] == 5 and ev["check"] == "d_wins"
    mon.close()
    rows = lines(tmp_path / "log.jsonl")
    assert rows[-1]["event"] == "health" and rows[-1]["message"] == "D wins"
    assert len(mon.history) == 1  # events are not metrics


def test_appends_to_an_existing_log(tmp_path):
    (tmp_path / "log.jsonl").write_text(json.dumps({"step": 1, "a": 1.0}) + "\n")
    mon = Monitor(tmp_path, tensorboard=False)
    mon.report("a", 2.0)
    mon.tick(2)
    mon.close()
    assert [r["step"] for r in lines(tmp_path / "log.jsonl")] == [1, 2]


def test_disabled_monitor_writes_nothing(tmp_path):
    mon = Monitor(tmp_path, tensorboard=True, enabled=False)
    mon.report("a", 1.0)
    assert mon.tick(1)["a"] == 1.0
    mon.event(1, "x")
    mon.close()
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- TensorBoard


def test_tensorboard_absent_is_fine(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import raises ImportError
    mon = Monitor(tmp_path, tensorboard=True)
    assert mon._tb is None
    mon.report("a", 1.0)
    assert mon.tick(1)["a"] == 1.0
    mon.close()
    assert lines(tmp_path / "log.jsonl")[0]["a"] == 1.0


def test_tensorboard_as_installed_here(tmp_path):
    mon = Monitor(tmp_path, tensorboard=True)  # whether or not tensorboard is installed
    mon.report("a", torch.tensor(2.0))
    assert mon.tick(3)["a"] == 2.0
    mon.event(3, "note")
    mon.close()
    assert len(lines(tmp_path / "log.jsonl")) == 2


def test_tensorboard_present_gets_the_scalars(tmp_path, monkeypatch):
    calls = []

    class FakeWriter:
        def __init__(self, logdir):
            calls.append(("init", logdir))

        def add_scalar(self, tag, value, step):
            calls.append((tag, value, step))

        def close(self):
            calls.append(("close",))

    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = FakeWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    mon = Monitor(tmp_path, tensorboard=True)
    mon.report("Loss/G", 2.0)
    mon.tick(7, phase="train")
    mon.close()
    assert calls[0] == ("init", str(tmp_path / "tensorboard"))
    assert ("Loss/G", 2.0, 7) in calls
    assert not any(c[0] in ("step", "time", "phase") for c in calls)  # only numeric metrics
    assert calls[-1] == ("close",)


def test_tensorboard_false_never_imports_it(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("tensorboard was opened")

    monkeypatch.setattr(Monitor, "_open_tensorboard", boom)
    Monitor(tmp_path, tensorboard=False).close()


# ----------------------------------------------------------------------------- truncate_log / read_log


def write_log(path, rows, tail=""):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + tail, encoding="utf-8")


def test_truncate_log_drops_lines_after_step_and_half_written_line(tmp_path):
    path = tmp_path / "log.jsonl"
    rows = [{"step": s, "Loss/G": float(s)} for s in (100, 200, 300, 400)]
    rows.insert(2, {"step": 200, "event": "checkpoint"})
    rows.append({"step": 350, "event": "health"})
    write_log(path, rows, tail='{"step": 500, "Loss/G": 1.2')  # crash mid-line
    truncate_log(path, 200)
    assert lines(path) == [rows[0], rows[1], rows[2]]
    assert path.read_text().endswith("\n")


def test_truncate_log_keeps_everything_up_to_step(tmp_path):
    path = tmp_path / "log.jsonl"
    rows = [{"step": s} for s in (1, 2, 3)] + [{"event": "start"}]  # no step: treated as 0
    write_log(path, rows)
    truncate_log(path, 3)
    assert lines(path) == rows
    truncate_log(path, 0)
    assert lines(path) == [{"event": "start"}]


def test_truncate_log_missing_file(tmp_path):
    truncate_log(tmp_path / "none.jsonl", 10)
    assert not (tmp_path / "none.jsonl").exists()


def test_read_log_splits_metrics_and_events(tmp_path):
    path = tmp_path / "log.jsonl"
    rows = [{"step": 1, "a": 1.0}, {"step": 1, "event": "start"}, {"step": 2, "a": 2.0},
            {"step": 2, "event": "health", "check": "d_wins"}]
    write_log(path, rows, tail='{"step": 3, "a"')
    metrics, events = read_log(path)
    assert metrics == [rows[0], rows[2]]
    assert events == [rows[1], rows[3]]
    assert read_log(tmp_path / "missing.jsonl") == ([], [])


def test_monitor_round_trip_through_read_log(tmp_path):
    mon = Monitor(tmp_path, tensorboard=False)
    for step in (10, 20, 30):
        mon.report("Loss/D", torch.tensor(float(step)))
        mon.tick(step)
        mon.event(step, "checkpoint", path=f"ckpt-{step}")
    mon.close()
    truncate_log(tmp_path / "log.jsonl", 20)
    metrics, events = read_log(tmp_path / "log.jsonl")
    assert [(m["step"], m["Loss/D"]) for m in metrics] == [(10, 10.0), (20, 20.0)]
    assert [e["path"] for e in events] == ["ckpt-10", "ckpt-20"]
