"""Tests of the training health checks (training/health.py) on synthetic tick histories."""

from __future__ import annotations

import random

import pytest

from artforge.training.health import (
    HEALTH_CHECKS,
    REPEAT_TICKS,
    OVERFIT_TICKS,
    HealthMonitor,
    d_overfitting,
    d_wins,
    g_loss_explodes,
    mode_collapse,
    stalled,
    vanishing_gradients,
    weights_explode,
)


def healthy(n=30, seed=0) -> list[dict]:
    rnd = random.Random(seed)
    return [{"step": 100 * (i + 1), "D/real": 0.7 + rnd.uniform(-0.05, 0.05),
             "D/fake": 0.3 + rnd.uniform(-0.05, 0.05), "Loss/G": 1.2 + rnd.uniform(-0.3, 0.3),
             "Loss/D": 1.1 + rnd.uniform(-0.2, 0.2), "grad_norm/G": 5.0 + rnd.uniform(-2, 2),
             "D/sign_real": 0.4 + rnd.uniform(-0.1, 0.1), "Health/diversity": 0.8 + rnd.uniform(-0.1, 0.1),
             "Health/r_train": 0.5 + rnd.uniform(-0.1, 0.1), "Health/r_val": 0.45 + rnd.uniform(-0.1, 0.1),
             "Health/weight_norm_G": 40 + i * 0.5, "Health/weight_norm_D": 30 + i * 0.3,
             **({"Quality/swd": 100 / (i + 1) + rnd.uniform(0, 1)} if i % 5 == 4 else {})}
            for i in range(n)]


def with_last(history: list[dict], k: int, **values) -> list[dict]:
    """A copy of history whose last k rows have these values."""
    out = [dict(row) for row in history]
    for row in out[-k:]:
        row.update(values)
    return out


# ----------------------------------------------------------------------------- quiet when healthy


@pytest.mark.parametrize("seed", range(5))
def test_quiet_on_a_healthy_history(seed):
    history = healthy(seed=seed)
    for end in range(1, len(history) + 1):
        for name, fn in HEALTH_CHECKS.items():
            assert fn(history[:end]) is None, (name, end)


def test_quiet_on_empty_and_short_histories():
    for fn in HEALTH_CHECKS.values():
        assert fn([]) is None
        assert fn([{"step": 1}]) is None


def test_registry():
    assert HEALTH_CHECKS == {"d_wins": d_wins, "g_loss_explodes": g_loss_explodes,
                             "vanishing_gradients": vanishing_gradients, "mode_collapse": mode_collapse,
                             "d_overfitting": d_overfitting, "weights_explode": weights_explode, "stalled": stalled}


# ----------------------------------------------------------------------------- the issue-3 detectors


def test_mode_collapse_fires_on_an_absolute_drop_and_a_relative_one():
    assert mode_collapse(with_last(healthy(), 1, **{"Health/diversity": 0.1})).check == "mode_collapse"
    history = [{"step": i, "Health/diversity": 0.9} for i in range(5)] + [{"step": 6, "Health/diversity": 0.4}]
    warning = mode_collapse(history)
    assert warning and "0.40" in warning.message and "peak 0.90" in warning.message
    assert mode_collapse(history[:-1] + [{"step": 6, "Health/diversity": 0.7}]) is None


def test_settling_from_noisy_variety_to_the_data_s_is_not_mode_collapse():
    """Noisy early samples measure above the data's variety (2x here); coming down to it is learning."""
    history = [{"step": i, "Health/diversity": d} for i, d in enumerate([1.1, 2.26, 1.5, 0.94])]
    assert mode_collapse(history) is None
    assert mode_collapse(history + [{"step": 9, "Health/diversity": 0.45}]).check == "mode_collapse"


def without(history: list[dict], *keys: str) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in keys} for row in history]


def test_d_overfitting_from_a_persistent_train_val_gap():
    gap = {"Health/r_train": 0.95, "Health/r_val": 0.2}
    warning = d_overfitting(with_last(healthy(), OVERFIT_TICKS, **gap))
    assert "validation" in warning.message and "0.95" in warning.message
    assert d_overfitting(with_last(healthy(), OVERFIT_TICKS // 2, **gap)) is None  # under half the window: noise
    # most of the window decides: one quiet tick among large gaps still fires, small gaps do not
    assert d_overfitting(with_last(with_last(healthy(), OVERFIT_TICKS, **gap), 1, **{"Health/r_val": 0.9})).check == "d_overfitting"
    assert d_overfitting(with_last(healthy(), OVERFIT_TICKS, **{"Health/r_train": 0.6, "Health/r_val": 0.35})) is None


def test_with_held_out_images_a_high_rt_alone_is_no_warning():
    """The demo's case (issue 38): early in a run D is sure of real images because G's are still poor;
    the held-out gap, not r_t, says whether it memorizes."""
    assert d_overfitting(with_last(healthy(), 20, **{"D/sign_real": 0.97})) is None


def test_d_overfitting_from_a_persistent_rt_without_held_out_images():
    no_val = without(healthy(), "Health/r_train", "Health/r_val", "Augment/p")
    warning = d_overfitting(with_last(no_val, OVERFIT_TICKS, **{"D/sign_real": 0.97}))
    assert "r_t" in warning.message and "--d-augment" in warning.suggestion
    assert d_overfitting(with_last(no_val, OVERFIT_TICKS - 1, **{"D/sign_real": 0.97})) is None


def test_with_adaptive_augmentation_rt_must_outlast_the_controller():
    ada = [dict(row, **{"Augment/p": 0.001 * i}) for i, row in
           enumerate(without(healthy(), "Health/r_train", "Health/r_val"))]
    assert d_overfitting(with_last(ada, 2 * OVERFIT_TICKS - 1, **{"D/sign_real": 0.97})) is None
    warning = d_overfitting(with_last(ada, 2 * OVERFIT_TICKS, **{"D/sign_real": 0.97}))
    assert "--ada-kimg" in warning.suggestion and "p = 0.03" in warning.suggestion


def test_weights_explode():
    history = with_last(healthy(), 1, **{"Health/weight_norm_D": 30 * 11})
    warning = weights_explode(history)
    assert warning and warning.message.startswith("D's weights grew")


def test_stalled_names_the_best_step():
    rows = [{"step": s, "Quality/swd": v} for s, v in [(500, 90), (1000, 50), (1500, 55), (2000, 60), (2500, 52),
                                                       (3000, 58), (3500, 51)]]
    warning = stalled(rows)
    assert warning and "step 1000" in warning.message
    assert stalled(rows[:-1] + [{"step": 3500, "Quality/swd": 40}]) is None  # improved in time
    assert stalled(rows[:5]) is None  # too few evaluations to tell


def test_stalled_ignores_a_diverged_evaluation():
    nan = float("nan")  # a preview that blew up early is no best step to stall behind
    rows = [{"step": s, "Quality/swd": v} for s, v in [(500, nan), (1000, 60), (1500, 50), (2000, 45), (2500, 40),
                                                       (3000, 38), (3500, 36)]]
    assert stalled(rows) is None


# ----------------------------------------------------------------------------- D wins


def test_d_wins_fires_after_two_ticks():
    h = healthy()
    assert d_wins(with_last(h, 1, **{"D/real": 0.999, "D/fake": 0.001})) is None  # one tick is not enough
    w = d_wins(with_last(h, 2, **{"D/real": 0.999, "D/fake": 0.001}))
    assert w.check == "d_wins"
    assert "0.999" in w.message and "0.001" in w.message
    assert "--lr-d" in w.suggestion


def test_d_wins_needs_both_real_and_fake_confident():
    h = healthy()
    assert d_wins(with_last(h, 3, **{"D/real": 0.999, "D/fake": 0.3})) is None
    assert d_wins(with_last(h, 3, **{"D/real": 0.7, "D/fake": 0.001})) is None
    assert d_wins(with_last(h, 3, **{"D/real": 0.97, "D/fake": 0.001})) is None  # below the 0.98 line


def test_d_wins_ignores_missing_values():
    h = [{"step": 1, "D/real": 0.999, "D/fake": 0.001}, {"step": 2, "D/real": 0.999}]
    assert d_wins(h) is None


# ----------------------------------------------------------------------------- G loss explodes


def test_g_loss_explodes_absolute():
    h = [{"step": i, "Loss/G": 1.0 + 0.01 * (i % 3)} for i in range(10)]
    assert g_loss_explodes(h) is None
    w = g_loss_explodes(h + [{"step": 10, "Loss/G": 12.0}])
    assert w.check == "g_loss_explodes"
    assert "12.00" in w.message and "1.01" in w.message  # median of the last five before it
    assert "--lr-g" in w.suggestion


def test_g_loss_explodes_reads_the_adversarial_part_when_a_task_logs_it():
    """pix2pix's G loss is adversarial + 100 x L1 (tens): only its adversarial part is judged."""
    h = [{"step": i, "Loss/G": 60.0 + i, "Loss/G_adv": 1.0} for i in range(10)]
    assert g_loss_explodes(h) is None
    w = g_loss_explodes(h + [{"step": 10, "Loss/G": 70.0, "Loss/G_adv": 12.0}])
    assert w.check == "g_loss_explodes" and "12.00" in w.message


def test_g_loss_explodes_relative():
    h = [{"step": i, "Loss/G": 1.0} for i in range(10)]
    assert g_loss_explodes(h + [{"step": 10, "Loss/G": 5.0}]).check == "g_loss_explodes"  # > 4 and > 3x
    assert g_loss_explodes(h + [{"step": 10, "Loss/G": 3.5}]) is None  # < 4
    high = [{"step": i, "Loss/G": 3.0} for i in range(10)]
    assert g_loss_explodes(high + [{"step": 10, "Loss/G": 6.0}]) is None  # only 2x its level


def test_g_loss_explodes_needs_three_values():
    assert g_loss_explodes([{"Loss/G": 1.0}, {"Loss/G": 50.0}]) is None
    assert g_loss_explodes([{"Loss/G": 1.0}, {"Loss/G": 1.0}, {"Loss/G": 50.0}]).check == "g_loss_explodes"


def test_g_loss_explodes_single_spike_in_the_past_does_not_fire():
    h = [{"Loss/G": 1.0}] * 5 + [{"Loss/G": 12.0}] + [{"Loss/G": 1.0}] * 3
    assert g_loss_explodes(h) is None


# ----------------------------------------------------------------------------- vanishing gradients


def test_vanishing_gradients():
    h = healthy()
    assert vanishing_gradients(with_last(h, 1, **{"grad_norm/G": 1e-6})) is None
    w = vanishing_gradients(with_last(h, 2, **{"grad_norm/G": 1e-6}))
    assert w.check == "vanishing_gradients"
    assert "1.0e-06" in w.message
    assert "nonsaturating" in w.suggestion
    assert vanishing_gradients(with_last(h, 2, **{"grad_norm/G": 1e-3})) is None


# ----------------------------------------------------------------------------- monitor


def d_win_rows(n):
    return [{"step": i, "D/real": 0.999, "D/fake": 0.001} for i in range(n)]


def test_monitor_announces_once_then_every_repeat_ticks():
    mon = HealthMonitor()
    history = healthy(5)
    assert mon.check(history) == []
    bad = d_win_rows(2)
    announced = []
    for tick in range(3 * REPEAT_TICKS + 1):
        history = history + [dict(bad[-1], step=1000 + tick)] if tick else history + bad
        news = mon.check(history)
        assert all(w.check == "d_wins" for w in news)
        if news:
            announced.append(tick)
    assert announced == [0, REPEAT_TICKS, 2 * REPEAT_TICKS, 3 * REPEAT_TICKS]


def test_monitor_announces_again_right_after_it_clears_and_comes_back():
    mon = HealthMonitor()
    history = healthy(5) + d_win_rows(2)
    assert [w.check for w in mon.check(history)] == ["d_wins"]
    history += d_win_rows(1)
    assert mon.check(history) == []  # persisting: quiet
    history += healthy(1)
    assert mon.check(history) == []  # cleared
    history += d_win_rows(2)
    assert [w.check for w in mon.check(history)] == ["d_wins"]  # back: news at once


def test_monitor_tracks_checks_independently():
    mon = HealthMonitor()
    h = healthy(5)
    h = with_last(h, 2, **{"D/real": 0.999, "D/fake": 0.001})
    assert [w.check for w in mon.check(h)] == ["d_wins"]
    h = with_last(h + [dict(h[-1])], 2, **{"grad_norm/G": 1e-7})
    assert [w.check for w in mon.check(h)] == ["vanishing_gradients"]  # d_wins still active: not repeated
    assert set(mon.active) == {"d_wins", "vanishing_gradients"}


# ----------------------------------------------------------------------------- the demo's own run


def demo_history() -> list[dict]:
    """The tick lines of a real 15-minute run of make demo's default configuration (tests/fixtures)."""
    import json
    from pathlib import Path

    lines = (Path(__file__).parent / "fixtures" / "demo-health-history.jsonl").read_text().splitlines()
    return [row for row in map(json.loads, lines) if "_about" not in row]


def test_the_demo_s_healthy_run_raises_no_warning_at_any_tick():
    """Issue 38: `make demo` warned "D overfits" at step 200, before adaptive augmentation could act. The
    recorded run has that early r_t (above 0.9 on its first two ticks, the old rule's trigger) and trains
    well (its SWD falls by more than half); the monitor, fed its ticks as the loop does, stays quiet."""
    history = demo_history()
    rt = [row["D/sign_real"] for row in history]
    assert min(rt[:2]) > 0.9 and history[1]["step"] == 200  # what fired before
    swd = [row["Quality/swd"] for row in history if "Quality/swd" in row]
    assert min(swd) < 0.5 * swd[0] and len(history) > 80  # can fail: a fixture of a run that did not learn
    monitor = HealthMonitor()
    warnings = [(row["step"], w.check) for end, row in enumerate(history, 1) for w in monitor.check(history[:end])]
    assert warnings == []


def test_the_same_run_with_a_memorizing_d_still_warns():
    """The demo's ticks with a train/validation gap of 0.6 from step 3,000 on: the check is quiet only while
    the evidence is."""
    history = [dict(row) for row in demo_history()]
    for row in history:
        if row["step"] >= 3000:
            row["Health/r_val"] = row["Health/r_train"] - 0.6
    monitor = HealthMonitor()
    first = next(row["step"] for end, row in enumerate(history, 1)
                 if any(w.check == "d_overfitting" for w in monitor.check(history[:end])))
    assert 3000 + 100 * (OVERFIT_TICKS // 2) <= first <= 3000 + 100 * OVERFIT_TICKS
