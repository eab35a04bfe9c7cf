"""Sizing a run to its --minutes budget: the decision for fast and slow machines, and the measurement."""

from __future__ import annotations

import pytest

from artforge.commands.sizing import CANDIDATES, TARGET_STEPS, Size, choose_size, expected_steps

from conftest import TINY

WIDE, MID, CHEAP = CANDIDATES


def speeds(wide: float) -> dict[Size, float]:
    """Throughputs in the proportions measured on a CPU: half the width, about 3x the images per second."""
    return {WIDE: wide, MID: wide * 1.7, CHEAP: wide * 2.7}


def test_a_fast_machine_gets_the_widest_network():
    # 1,000 img/s at width 64 (a GPU): 15 minutes are 28,125 steps of batch 32
    assert choose_size(15 * 60, speeds(1000)) == WIDE


def test_a_slow_machine_gets_the_cheapest_network():
    # 30 img/s at width 64 (fp32 on a 2-core AVX2 laptop): 844 steps; even width 32 gets fewer than the target
    assert choose_size(15 * 60, speeds(30)) == CHEAP


def test_in_between_the_widest_size_that_reaches_the_target_steps():
    # width 64 would get 11,250 steps, width 48 38,250: the target is between them
    chosen = choose_size(15 * 60, speeds(400))
    assert chosen == MID
    assert expected_steps(MID, 400 * 1.7, 15 * 60) >= TARGET_STEPS > expected_steps(WIDE, 400, 15 * 60)


def test_a_longer_budget_buys_a_wider_network():
    slow = speeds(60)  # 5 min: at most 3,037 steps; an hour: 22,950 at width 48; 4 hours: 27,000 at width 64
    assert [choose_size(m * 60, slow) for m in (5, 60, 240)] == [CHEAP, MID, WIDE]


def test_only_what_was_measured_is_chosen():
    # measure() times the cheapest first and stops at the first size that misses the target
    assert choose_size(15 * 60, {CHEAP: 30.0}) == CHEAP
    assert choose_size(15 * 60, {MID: 30.0, CHEAP: 600.0}) == CHEAP
    with pytest.raises(ValueError):
        choose_size(60, {})


@pytest.mark.parametrize("speed, timed", [(10.0, [8]), (1e6, [8, 16])])
def test_measure_times_the_cheapest_first_and_stops_at_the_first_miss(blob_dataset, monkeypatch, speed, timed):
    from artforge.options import TrainConfig
    from artforge.commands import sizing

    seen = []
    monkeypatch.setattr(sizing, "_img_per_s", lambda trainer, steps: seen.append(trainer.options.family.width) or speed)
    options = {k: v for k, v in TINY.items() if k not in ("width", "batch")}
    cfg = TrainConfig(dataset=str(blob_dataset), **options).resolved()
    wide, cheap = Size(16, 8), Size(8, 8)
    from artforge.commands.trainer import Trainer
    measured = sizing.measure(cfg, 32, 3, 0, sizes=[wide, cheap], seconds=60, target_steps=1000, trainer=Trainer)
    assert seen == timed  # 10 img/s: 75 steps, short of 1,000: the wider size is not timed
    assert list(measured) == [wide, cheap][-len(timed):]  # widest first, as choose_size reads them
