"""The engine: named networks, their optimizers and EMA copies, precision, ranks, the loop, checkpoints.

It trains whatever a model family builds with whatever a task says a step is: it runs the task's
phases (steps.py) on the family's named networks and never names one itself. Everything a run
needs lives on the ``Engine`` object (no module-level state), so torchrun builds one per process.
With no run folder (``run_dir=None``) it writes nothing: the toy benchmark trains this way.
"""

from __future__ import annotations

import contextlib
import copy
import math
import signal
import sys
import threading
import time
from pathlib import Path

import torch
from torch import nn

from .._version import __version__
from ..errors import CheckpointError, TrainingDiverged
from .steps import NonFinite, Optimization, Task, lazy_ratio, run_step, trained_networks
from ..utils.device import autocast, choose_precision, pick_device, precision_name
from ..utils.events import CancelToken, Event, EventSink
from ..runs import checkpoint as ckpt
from ..runs.monitor import Monitor, truncate_log
from ..runs.rundir import RunLayout
from .distributed import SINGLE, Distributed, rank_seed
from .health import HealthMonitor

REPEAT_SECONDS = 2.0  # a second stop signal sooner than this is the first one delivered again


class EMA:
    """An EMA copy tracks its network with a half-life in images (StyleGAN2-ADA's ema_kimg, with ramp-up)."""

    def __init__(self, source: nn.Module, target: nn.Module, half_life_kimg: float, rampup: float):
        self.params = (list(source.parameters()), list(target.parameters()))
        self.buffers = (list(source.buffers()), list(target.buffers()))
        self.half_life = half_life_kimg * 1000
        self.rampup = rampup

    def beta(self, batch: int, nimg: int) -> float:
        half_life = self.half_life
        if self.rampup > 0:
            half_life = min(half_life, nimg * self.rampup)
        return 0.5 ** (batch / half_life) if half_life > 0 else 0.0

    @torch.no_grad()
    def update(self, batch: int, nimg: int) -> None:
        src, dst = self.params
        torch._foreach_lerp_(dst, src, 1.0 - self.beta(batch, nimg))
        for b_src, b_dst in zip(*self.buffers):  # batch-norm statistics are copied, not averaged
            b_dst.copy_(b_src)


@contextlib.contextmanager
def stop_on_ctrl_c(cancel: CancelToken | None = None, announce: bool = True):
    """The first Ctrl-C (or SIGTERM: a scheduler's or torchrun's stop) cancels ``cancel``, which asks
    the loop to save and stop after the current step, as a caller's own cancel does; a second one
    quits at once. Yields the token."""
    cancel = cancel or CancelToken()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return
    first = {"at": None}

    def handler(signum, frame):
        # Under torchrun a Ctrl-C arrives twice within milliseconds (from the terminal and forwarded
        # by the launcher): a repeat within REPEAT_SECONDS is the same request.
        if first["at"] is not None and time.monotonic() - first["at"] > REPEAT_SECONDS:
            raise KeyboardInterrupt
        if first["at"] is not None:
            return
        first["at"] = time.monotonic()
        cancel.cancel()
        if announce:
            name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
            print(f"\n{name}: saving a checkpoint after this step, then stopping ({name} again quits now)",
                  file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield cancel
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _match_param_layout(opt: torch.optim.Optimizer) -> None:
    """Give loaded moment tensors their parameter's memory layout (checkpoints store them contiguous).

    The fused Adam kernel walks parameter and moments as flat memory: a channels-last weight with a
    contiguous moment would silently pair the wrong elements, and resume would not be exact.
    """
    for group in opt.param_groups:
        for p in group["params"]:
            for key, value in opt.state.get(p, {}).items():
                if isinstance(value, torch.Tensor) and value.shape == p.shape and value.stride() != p.stride():
                    opt.state[p][key] = torch.empty_like(p, dtype=value.dtype).copy_(value)


def make_optimizer(module: nn.Module, lr: float, betas: tuple[float, float], device: torch.device,
                   ratio: float = 1.0) -> torch.optim.Adam:
    """Adam; with lazy regularization, lr and betas are scaled as Karras et al. 2020 (app. B) do."""
    kwargs = dict(lr=lr * ratio, betas=(betas[0] ** ratio, betas[1] ** ratio))
    if device.type in ("cpu", "cuda"):
        kwargs["fused"] = True  # one kernel for all parameters: measurably faster on both
    return torch.optim.Adam(module.parameters(), **kwargs)


def decay_factor(progress: float, share: float, floor: float = 0.0) -> float:
    """The learning-rate multiplier at ``progress`` (0..1) of a run whose last ``share`` decays linearly
    from 1 to ``floor``."""
    if share <= 0:
        return 1.0
    return floor + (1.0 - floor) * min(1.0, max(0.0, (1.0 - progress) / share))


class Engine:
    """Trains ``family``'s networks on ``task``. ``options`` are the run's by part (``TrainSections``); the
    engine reads its own, ``options.engine`` (``self.cfg``: options/engine.py's ``EngineOptions``), and
    saves the whole record in each checkpoint.
    """

    def __init__(self, options, family, model_cfg, task: Task, run_dir: Path | None, resume_from: Path | None = None,
                 dist: Distributed = SINGLE, callbacks: tuple = ()):
        cfg = options.engine
        self.options, self.cfg, self.family, self.model_cfg, self.task = options, cfg, family, model_cfg, task
        self.run_dir = run_dir
        self.dist = dist
        self.callbacks = list(callbacks)  # evaluation during training (callbacks.py)
        self.device = pick_device(cfg.device)
        self.precision = choose_precision(cfg.precision, self.device)  # measured on a CPU: bf16 only where faster
        self.dtype = self.precision.dtype
        with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's RNG
            torch.manual_seed(cfg.seed)
            nets = family.build(model_cfg)
        memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
        self.nets: dict[str, nn.Module] = {k: v.to(self.device, memory_format=memory_format) for k, v in nets.items()}
        self.ema_nets = {f"{name}_ema": copy.deepcopy(self.nets[name]).eval().requires_grad_(False)
                         for name in family.ema}
        self.emas = {name: EMA(self.nets[name], self.ema_nets[f"{name}_ema"], cfg.ema_kimg, cfg.ema_rampup)
                     for name in family.ema}
        # One process: one stream for everything, as ever. Several: the shared stream (the run's seed,
        # the same on every process) draws what defines the global batch; each process has its own.
        self.gen = torch.Generator().manual_seed(rank_seed(cfg.seed, dist.rank, dist.world))
        self.shared_gen = torch.Generator().manual_seed(cfg.seed) if dist.active else self.gen
        self.step = 0
        self.draws = 0
        self.metric_history: list[dict] = []
        self.best: dict | None = None
        self.train_seconds = 0.0
        task.attach(self)
        self.phases = task.phases()
        self._make_optimizers()
        if resume_from is not None:
            self._restore(ckpt.load_checkpoint(resume_from, device=self.device))
        else:
            # Layers that draw their own randomness (a style layer's noise, dropout) use torch's global
            # stream: seeded here per process, saved in checkpoints, so runs repeat and resume exactly.
            torch.manual_seed(rank_seed(cfg.seed + 1, dist.rank, dist.world))
            task.init_from_data()
        task.start()

    def _make_optimizers(self) -> None:
        lrs = self.task.learning_rates()
        betas = (self.cfg.beta1, self.cfg.beta2)
        self.opt = {name: make_optimizer(self.nets[name], lrs[name], betas, self.device, lazy_ratio(self.phases, name))
                    for name in trained_networks(self.phases)}
        fp16 = self.dtype == torch.float16
        self.scaler = {name: torch.amp.GradScaler(self.device.type, enabled=fp16) for name in self.opt}

    def all_nets(self) -> dict[str, nn.Module]:
        """Trained networks and their EMA copies, by name: what a checkpoint's weights file holds."""
        return {**self.nets, **self.ema_nets}

    @property
    def nimg(self) -> int:
        return self.draws * self.task.images_per_draw()

    # ------------------------------------------------------------------ state

    def training_state(self) -> dict:
        own = self.dist.gather(self.gen.get_state())  # every process's own stream
        return {
            "artforge_version": __version__,
            "family": self.family.name,
            "model_config": self.family.config_dict(self.model_cfg),
            "task": self.task.name,
            "train_config": self.cfg_dict(),
            "draws": self.draws,
            "nimg": self.nimg,
            "train_seconds": self.train_seconds,
            "precision": precision_name(self.dtype),
            "world_size": self.dist.world,
            "optimizers": {k: o.state_dict() for k, o in self.opt.items()},
            "scalers": {k: s.state_dict() for k, s in self.scaler.items()},
            "rng": {"generator": self.shared_gen.get_state(), "ranks": own, "torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
            "metric_history": self.metric_history,
            "best": self.best,
            "task_state": self.task.state_dict(),
            **self.task.inference_state(),  # label names and weights, for samplers (no training tensors)
        }

    def cfg_dict(self) -> dict:
        return self.options.record()

    def _restore(self, loaded: dict) -> None:
        state = loaded["state"]
        if state.get("task") != self.task.name:  # a checkpoint resumes only the task that wrote it
            raise CheckpointError(f"checkpoint {loaded['path']} was written by the {state.get('task')} task, "
                                  f"not {self.task.name}", "resume it with the command that trained it")
        for name, module in self.all_nets().items():
            module.load_state_dict(loaded["models"][name])
        lrs = self.task.learning_rates()
        for name, opt in self.opt.items():
            opt.load_state_dict(state["optimizers"][name])
            for group in opt.param_groups:  # a resumed run may change learning rates
                group["lr"] = lrs[name] * lazy_ratio(self.phases, name)
            _match_param_layout(opt)
        for name, scaler in self.scaler.items():
            if state["scalers"].get(name):
                scaler.load_state_dict(state["scalers"][name])
        self._restore_streams(state["rng"])
        self.step = loaded["step"]
        self.draws = state["draws"]
        self.train_seconds = state.get("train_seconds", 0.0)
        self.metric_history = state.get("metric_history", [])
        self.best = state.get("best")
        self.task.load_state_dict(state.get("task_state", {}))

    def _restore_streams(self, rng: dict) -> None:
        """The shared stream, and this process's own one: saved by a process of the same rank, or new.

        A run resumed on another number of processes continues the shared stream (and with it the
        global batches) exactly; a process that did not exist before starts its own stream from
        (seed, rank, step).
        """
        self.shared_gen.set_state(rng["generator"])
        ranks = rng.get("ranks") or []
        same_world = len(ranks) == self.dist.world
        if self.dist.active:
            if same_world:
                self.gen.set_state(ranks[self.dist.rank])
            else:
                self.gen.manual_seed(rank_seed(self.cfg.seed + self.step + 1, self.dist.rank, self.dist.world))
        torch.set_rng_state(rng["torch"])
        if torch.cuda.is_available() and rng["cuda"]:
            torch.cuda.set_rng_state_all(rng["cuda"])

    # ------------------------------------------------------------------ one step

    def make_context(self):
        return self.task.context()

    def optimization(self) -> Optimization:
        multi = self.dist.active
        return Optimization(self.nets, self.opt, self.scaler, lambda: autocast(self.device, self.dtype),
                            average_gradients=self.dist.average_gradients if multi else None,
                            agree_finite=self.dist.agree_finite if multi else None)

    def progress(self) -> float:
        """The share of the run done (0..1): the furthest along of its step, image and time budgets."""
        cfg, done = self.cfg, [0.0]
        if cfg.steps:
            done.append(self.step / cfg.steps)
        if cfg.kimg:
            done.append(self.nimg / (cfg.kimg * 1000))
        if cfg.minutes:
            done.append(self.train_seconds / (cfg.minutes * 60))
        return min(1.0, max(done))

    def _decay_learning_rates(self, report) -> None:
        """--lr-decay: every optimizer's rate is its set rate times ``decay_factor`` (recomputed from the
        step, images or training time each step, so a resumed run continues the schedule), down to its
        network's floor (--lr-floor-g, --lr-floor-d)."""
        share = self.cfg.lr_decay or 0.0
        if not share:
            return
        progress = self.progress()
        report("Schedule/lr_factor", decay_factor(progress, share))
        lrs = self.task.learning_rates()
        floors = {"G": self.cfg.lr_floor_g or 0.0, "D": self.cfg.lr_floor_d or 0.0}
        for name, opt in self.opt.items():
            factor = decay_factor(progress, share, floors.get(name, 0.0))
            for group in opt.param_groups:
                group["lr"] = lrs[name] * lazy_ratio(self.phases, name) * factor

    def train_step(self, ctx, monitor: Monitor, log_grads: bool) -> None:
        nimg_before = self.nimg
        self._decay_learning_rates(monitor.report)
        self.task.before_step(self.step)
        trained = run_step(self.phases, self.step, ctx, self.optimization(), monitor.report, log_grads)
        self.draws = ctx.draws
        batch = self.task.images_per_draw()
        for name, ema in self.emas.items():
            if name in trained:
                ema.update(batch, self.nimg)
        self.step += 1
        self.task.after_step(self.nimg - nimg_before, monitor.report)

    # ------------------------------------------------------------------ ticks, previews, checkpoints

    def save_preview(self):
        """The task's fixed-input preview of this step as a PNG; returns it (for the health checks)."""
        preview = self.task.preview()
        if preview is not None and self.run_dir is not None and self.dist.is_writer:
            path = RunLayout(self.run_dir).grid(self.step)
            path.parent.mkdir(exist_ok=True)
            self.task.modality.preview_image(preview).save(path)
        return preview

    @torch.no_grad()
    def health_stats(self, preview) -> dict[str, float]:
        stats = self.task.health(preview)
        for name, net in self.nets.items():
            stats[f"Health/weight_norm_{name}"] = torch.linalg.vector_norm(
                torch.stack(torch._foreach_norm(list(net.parameters())))).item()
        return stats

    def weights_finite(self) -> bool:
        return all(torch.isfinite(p).all() for net in self.nets.values() for p in net.parameters())

    def save_checkpoint(self, monitor: Monitor) -> Path | None:
        if not self.weights_finite():
            raise NonFinite("a weight", float("nan"))
        state = self.training_state()  # collective (per-rank streams): every process takes part
        if not self.dist.is_writer or self.run_dir is None:
            return None
        scores = self.task.quality() or {}
        if scores:
            entry = {"kimg": round(self.nimg / 1000, 3), **{k: round(v, 4) for k, v in scores.items()}}
            self.metric_history.append({"step": self.step, **entry})
            monitor.event(self.step, "metric", **entry)
            metric = self.task.quality_metric
            monitor.report_local(f"Quality/{metric}", scores[metric])
        for callback in self.callbacks:
            scores = {**scores, **callback.on_checkpoint(self, monitor)}
        self._update_best(scores)
        state["metric_history"], state["best"] = self.metric_history, self.best
        ckpt_dir = RunLayout(self.run_dir).checkpoints
        path = ckpt.save_checkpoint(ckpt_dir, self.step, self.all_nets(), state)
        ckpt.write_index(ckpt_dir, {"latest": path.name, "best": self.best["name"], "best_metric": self.best})
        ckpt.prune(ckpt_dir, self.cfg.keep, protect={self.best["name"], path.name})
        monitor.notify(self.step, "checkpoint", path=str(path), best=self.best["name"])
        return path

    def selection(self) -> tuple[str, str]:
        """The score that picks the best checkpoint, and whether lower or higher is better."""
        for callback in self.callbacks:
            if getattr(callback, "selects", None):
                return callback.selects
        return self.task.quality_metric, "lower"

    def _update_best(self, scores: dict) -> None:
        key, better = self.selection()
        name = ckpt.checkpoint_name(self.step)
        value = scores.get(key)
        # A diverged evaluation (NaN or inf: images that blew up) ranks below every real score: as the best,
        # no later score would compare better than it and the run's best checkpoint would stay the broken one.
        if value is None or not math.isfinite(value):
            if self.best is None or self.best["metric"] is None:  # no signal at all: the newest is the best
                self.best = {"name": name, "step": self.step, "metric": None, "value": None}
            return
        improved = self.best is None or self.best["value"] is None or (
            value <= self.best["value"] if better == "lower" else value >= self.best["value"])
        if improved:
            self.best = {"name": name, "step": self.step, "metric": key, "value": round(float(value), 6)}

    # ------------------------------------------------------------------ the loop

    def _done(self, started: float) -> bool:
        cfg = self.cfg
        return ((cfg.steps is not None and self.step >= cfg.steps)
                or (cfg.kimg is not None and self.nimg >= cfg.kimg * 1000)
                or (cfg.minutes is not None and time.time() - started >= cfg.minutes * 60))

    def _progress_total(self) -> int | None:
        cfg = self.cfg
        per_step = self.task.images_per_draw() * max(p.repeats for p in self.phases)  # draws per step
        totals = []
        if cfg.steps is not None:
            totals.append(cfg.steps)
        if cfg.kimg is not None:
            totals.append(math.ceil(cfg.kimg * 1000 / per_step))
        return min(totals) if totals else None

    def _checkpoint_due(self) -> bool:
        every = [self.cfg.checkpoint_every] + [c.every for c in self.callbacks if getattr(c, "every", 0)]
        return any(self.step % n == 0 for n in every)

    def run(self, notes=(), events: EventSink | None = None, cancel: CancelToken | None = None):
        """Train until a stop condition (steps, kimg, minutes), Ctrl-C, ``cancel`` or divergence; returns
        (status, last checkpoint). ``notes``: (text, event kind, fields), printed above the progress
        bar and logged at the start. ``events`` receives every log line and event, and the step
        about once a second (the writing process's)."""
        cfg, writes = self.cfg, self.run_dir is not None
        if writes and self.dist.is_writer:
            truncate_log(RunLayout(self.run_dir).log, self.step)
        ticks = writes and cfg.tick
        monitor = Monitor(self.run_dir, tensorboard=cfg.tensorboard, enabled=writes and self.dist.is_writer,
                          collect=bool(ticks), sink=events if self.dist.is_writer else None)
        progress = _ProgressEvents(self, events if self.dist.is_writer else None)
        health = HealthMonitor()
        ctx = self.make_context()
        bar = ProgressBar(self, enabled=cfg.progress and self.dist.is_writer)
        monitor.event(self.step, "precision", precision=precision_name(self.dtype), reason=self.precision.reason)
        bar.note(f"precision {precision_name(self.dtype)}: {self.precision.reason}")
        for text, kind, fields in notes:
            monitor.event(self.step, kind, **fields)
            bar.note(text)
        tick_nimg, last_ckpt, status = self.nimg, None, "finished"
        saved_step = None  # every process tracks it: saving is collective
        try:
            with stop_on_ctrl_c(cancel, announce=self.dist.is_writer) as cancel:
                if self.step == 0 and writes:
                    self.save_preview()
                started = tick_time = time.time()  # --minutes counts training, not set-up
                while not self.dist.any(self._done(started) or cancel.cancelled):
                    step_start = time.time()
                    log_grads = bool(ticks) and (self.step + 1) % cfg.tick == 0
                    try:
                        self.train_step(ctx, monitor, log_grads)
                    except NonFinite as exc:
                        self._diverged(monitor, exc)
                    self.train_seconds += time.time() - step_start
                    bar.update(self.step, started)
                    progress.update(started)
                    if writes and self._checkpoint_due():  # before the tick: its line gets the quality
                        last_ckpt, saved_step = self._checkpoint(monitor), self.step
                    if ticks and self.step % cfg.tick == 0:
                        now = time.time()
                        speed = (self.nimg - tick_nimg) / max(now - tick_time, 1e-9)
                        self._tick(monitor, health, bar, speed)
                        tick_time, tick_nimg = time.time(), self.nimg
                if cancel.cancelled or self.dist.active and not self._done(started):
                    status = "interrupted"
                if writes and saved_step != self.step:
                    last_ckpt = self._checkpoint(monitor)
                if ticks and self.step % cfg.tick:
                    self._tick(monitor, health, bar, None)
        finally:
            bar.close()
            monitor.close()
        return status, last_ckpt

    def _tick(self, monitor: Monitor, health: HealthMonitor, bar: "ProgressBar", speed: float | None) -> None:
        """One log line, the preview, and the health checks with their warnings (the writer's)."""
        if self.dist.is_writer:
            for key, value in self.health_stats(self.save_preview()).items():
                monitor.report_local(key, value)
        fields = {"kimg": round(self.nimg / 1000, 3), "Time/train_s": round(self.train_seconds, 1)}
        if speed is not None:
            fields["Speed/img_per_s"] = round(speed, 2)
        line = monitor.tick(self.step, self.dist, **fields)
        bar.show(line)
        if not self.dist.is_writer:
            return
        for warning in health.check(monitor.history):
            monitor.event(self.step, "health", check=warning.check, message=warning.message,
                          suggestion=warning.suggestion)
            bar.write(f"warning at step {self.step}: {warning.message}; try: {warning.suggestion}")

    def _checkpoint(self, monitor: Monitor) -> Path | None:
        try:
            return self.save_checkpoint(monitor)
        except NonFinite as exc:
            self._diverged(monitor, exc)

    def _diverged(self, monitor: Monitor, exc: NonFinite):
        latest = ckpt.read_index(RunLayout(self.run_dir).checkpoints).get("latest") if self.run_dir else None
        monitor.event(self.step, "diverged", message=str(exc))
        kept = f"the last good checkpoint {latest} is kept" if latest else "no checkpoint was saved yet"
        lower = {k: v / 2 for k, v in self.task.learning_rates().items()}
        rates = ", ".join(f"{k} {v:g}" for k, v in lower.items())
        error = TrainingDiverged(
            f"training diverged at step {self.step}: {exc}; {kept}",
            f"resume the run with lower learning rates ({rates})" if latest
            else f"train again with lower learning rates ({rates})")
        error.lower_lrs, error.resumable = lower, bool(latest)  # the command layer words it with its options
        raise error


class _ProgressEvents:
    """A "progress" event with the step and images seen, at most once a second (a bar's pace)."""

    def __init__(self, engine: Engine, sink: EventSink | None):
        self.engine, self.sink, self.last = engine, sink, 0.0
        self.total = engine._progress_total()

    def update(self, started: float) -> None:
        now = time.monotonic()
        if self.sink is None or now - self.last < 1.0:
            return
        self.last = now
        fields = {"total_steps": self.total, "kimg": round(self.engine.nimg / 1000, 3),
                  "elapsed_s": round(time.time() - started, 1)}
        if self.engine.cfg.minutes is not None:
            fields["budget_s"] = self.engine.cfg.minutes * 60
        self.sink(Event("progress", self.engine.step, fields))


class ProgressBar:
    """tqdm over steps (or over seconds for --minutes alone), with img/s, losses and an ETA."""

    def __init__(self, engine: Engine, enabled: bool):
        self.bar = None
        self.by_time = False
        self.progress_keys = engine.task.progress_keys  # the log values the bar shows, by short name
        if not enabled:
            return
        from tqdm import tqdm
        total = engine._progress_total()
        if total is None and engine.cfg.minutes is not None:
            self.by_time = True
            total = int(engine.cfg.minutes * 60)
        # By time, the rate column would read "1.00s/s": show elapsed and remaining instead.
        time_format = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}"
        name = engine.run_dir.name if engine.run_dir else engine.task.name
        self.bar = tqdm(total=total, initial=0 if self.by_time else engine.step, unit="step",
                        desc=f"training {name}", dynamic_ncols=True, file=sys.stderr,
                        bar_format=time_format if self.by_time else None,
                        mininterval=0.5 if sys.stderr.isatty() else 30)
        self.last = engine.step

    def update(self, step: int, started: float) -> None:
        if self.bar is None:
            return
        if self.by_time:  # update() (not refresh()) so tqdm's mininterval limits the output
            self.bar.update(min(int(time.time() - started), self.bar.total) - self.bar.n)
        else:
            self.bar.update(step - self.last)
        self.last = step

    def show(self, line: dict) -> None:
        if self.bar is not None:
            keys = {"img/s": "Speed/img_per_s", **self.progress_keys}
            self.bar.set_postfix({k: f"{line[v]:.3g}" for k, v in keys.items() if isinstance(line.get(v), (int, float))})

    def note(self, text: str) -> None:
        """A line of information above the bar; nothing when the progress display is off (--quiet)."""
        if self.bar is not None:
            self.write(text)

    def write(self, text: str) -> None:
        from tqdm import tqdm
        tqdm.write(text, file=sys.stderr) if self.bar is not None else print(text, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
