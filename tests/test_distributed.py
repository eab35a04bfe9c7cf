"""Two CPU processes (gloo) under torchrun against one: the same weights, one writer, resumable on one."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import artforge
from artforge.runs import checkpoint as ckpt
from artforge.training.distributed import Distributed, per_process_batch, rank_seed
from artforge.errors import UsageError

WORKER = Path(__file__).parent / "dist_worker.py"


def _torchrun(tmp_path, *args, nproc=2):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _params(path):
    return load_file(str(path))


def test_two_processes_equal_one_process_with_the_same_global_batch(tmp_path):
    """Toy MLPs (no batch norm): data, latents and gradients average to exactly one process's step."""
    _torchrun(tmp_path, str(WORKER), "toy", str(tmp_path / "two"), "6")
    rank0, rank1 = _params(tmp_path / "two" / "rank0.safetensors"), _params(tmp_path / "two" / "rank1.safetensors")
    assert rank0.keys() == rank1.keys()
    for key in rank0:  # every process holds the same weights after every step
        assert torch.equal(rank0[key], rank1[key]), key
    single = subprocess.run([sys.executable, str(WORKER), "toy", str(tmp_path / "one"), "6"], capture_output=True,
                            text=True, timeout=300, env={k: v for k, v in os.environ.items() if k != "WORLD_SIZE"})
    assert single.returncode == 0, single.stderr[-3000:]
    one = _params(tmp_path / "one" / "rank0.safetensors")
    for key in one:  # within float tolerance of the one-process run (sums split in two differ in rounding)
        torch.testing.assert_close(rank0[key], one[key], rtol=1e-4, atol=1e-5, msg=key)
    moved = [k for k in one if not torch.equal(one[k], rank0[k])]
    assert any(not torch.allclose(rank0[k], torch.zeros_like(rank0[k])) for k in rank0)  # it trained at all
    assert len(moved) <= len(one)  # (documented: equality is within tolerance, not bit for bit)


def test_torchrun_train_writes_once_and_resumes_on_one_process(tmp_path, blob_dataset):
    done = _torchrun(tmp_path, str(WORKER), "dcgan", str(tmp_path / "out"), "6", str(blob_dataset))
    rank0, rank1 = _params(tmp_path / "out" / "rank0.safetensors"), _params(tmp_path / "out" / "rank1.safetensors")
    for key in rank0:  # batch norm statistics are per process, but every parameter agrees
        assert torch.equal(rank0[key], rank1[key]), key
    runs = list((tmp_path / "out" / "runs").iterdir())
    assert len(runs) == 1  # rank 0 alone made the run folder
    run = runs[0]
    options = json.loads((run / "options.json").read_text())
    assert options["train"]["batch"] == 8  # the global batch
    state = ckpt.load_checkpoint(ckpt.resolve_checkpoint(run, "latest"))["state"]
    assert state["world_size"] == 2 and len(state["rng"]["ranks"]) == 2
    lines = (run / "log.jsonl").read_text().splitlines()
    steps = [json.loads(l)["step"] for l in lines if '"Loss/D"' in l]
    assert steps == [2, 4, 6]  # one log line per tick, not one per process
    assert "Traceback" not in done.stderr
    resumed = artforge.train(resume=run, steps=8)  # two processes -> one
    assert resumed.step == 8 and resumed.checkpoint.name == "step-000008"
    continued = ckpt.load_checkpoint(resumed.checkpoint)["state"]
    assert continued["world_size"] == 1 and continued["draws"] == 8
    _torchrun(tmp_path, "-m", "artforge", "train", "--resume", str(run), "--steps", "10", "--quiet")  # one -> two
    again = ckpt.load_checkpoint(ckpt.resolve_checkpoint(run, "latest"))["state"]
    assert again["world_size"] == 2 and again["draws"] == 10


def test_batch_must_split_over_the_processes():
    assert per_process_batch(16, 4) == 4
    with pytest.raises(UsageError, match="does not split over 3 processes"):
        per_process_batch(16, 3)
    parts = [Distributed(rank, 4).part(16) for rank in range(4)]
    assert [(p.start, p.stop) for p in parts] == [(0, 4), (4, 8), (8, 12), (12, 16)]


def test_streams_differ_by_rank_and_one_process_keeps_the_seed():
    assert rank_seed(7, 0, 1) == 7
    seeds = {rank_seed(7, r, 4) for r in range(4)}
    assert len(seeds) == 4 and 7 not in seeds  # the shared stream has the seed; ranks their own


def test_ctrl_c_stops_every_process_at_the_same_step_with_a_checkpoint(tmp_path, blob_dataset):
    """A terminal's Ctrl-C reaches every process; they agree on the step, rank 0 saves, none hangs."""
    import signal
    import time
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "artforge",
           "train", str(blob_dataset), "--out", str(tmp_path), "--steps", "100000", "--batch", "8", "--width", "8",
           "--z-dim", "16", "--tick", "2", "--checkpoint-every", "1000", "--eval-images", "0", "--quiet",
           "--device", "cpu", "--no-tensorboard"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    deadline = time.time() + 180
    while time.time() < deadline:  # wait until training is under way
        logs = list(tmp_path.glob("*/log.jsonl"))
        if logs and '"Loss/D"' in logs[0].read_text():
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does: the whole process group
    out, err = proc.communicate(timeout=180)
    # torchrun itself then exits non-zero with its own SignalException; the workers stop cleanly
    assert out.count("stopped (Ctrl-C) at step") == 1, err[-3000:]  # rank 0 alone reports
    assert "KeyboardInterrupt" not in err and "Ctrl-C again quits now" in err, err[-4000:]
    stopped_at = int(out.split("stopped (Ctrl-C) at step ")[1].split(":")[0])
    run = next(tmp_path.iterdir())
    assert ckpt.resolve_checkpoint(run, "latest").name == ckpt.checkpoint_name(stopped_at)


def test_stop_signals_save_and_stop_and_a_later_second_one_quits(monkeypatch):
    import signal
    from artforge.training import engine
    # what was there before (a shell starting tests in the background leaves SIGINT ignored)
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with engine.stop_on_ctrl_c(announce=False) as token:
        os.kill(os.getpid(), signal.SIGTERM)  # a scheduler's (or torchrun's) stop: save and stop too
        assert token.cancelled
        os.kill(os.getpid(), signal.SIGINT)  # the same request delivered again at once: ignored
        monkeypatch.setattr(engine, "REPEAT_SECONDS", 0.0)
        with pytest.raises(KeyboardInterrupt):  # a real second Ctrl-C quits now
            os.kill(os.getpid(), signal.SIGINT)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before  # handlers restored


def test_leaving_the_process_group_destroys_it():
    """Left to the interpreter's teardown, a gloo group aborted about one torchrun exit in ten here."""
    from artforge.training.distributed import _leave_process_group

    torch.distributed.init_process_group("gloo", store=torch.distributed.HashStore(), rank=0, world_size=1)
    assert torch.distributed.is_initialized()
    _leave_process_group()
    assert not torch.distributed.is_initialized()
    _leave_process_group()  # none joined: nothing to do


def test_joining_under_torchrun_registers_the_exit_hook(monkeypatch):
    from artforge.training import distributed

    joined, hooks = [], []
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: bool(joined))
    monkeypatch.setattr(torch.distributed, "init_process_group", lambda backend: joined.append(backend))
    monkeypatch.setattr(distributed.atexit, "register", hooks.append)
    dist = distributed.from_environment()
    assert (dist.rank, dist.world) == (1, 2) and joined
    assert hooks == [distributed._leave_process_group]
