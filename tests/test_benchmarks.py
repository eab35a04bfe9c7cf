"""The training benchmarks run end to end on a tiny budget (their figures are in the README, not here)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import write_blob_dataset

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True, text=True,
                         env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def test_quality_per_minute_runs_both_recipes_on_both_sets(tmp_path):
    full = write_blob_dataset(tmp_path / "blobs-32.zip", n=60)
    out = tmp_path / "bench"
    run("quality_per_minute.py", "--budgets", "0.02,0.04", "--full", str(full), "--out", str(out),
        "--encoder-steps", "5", "--jobs", "2", "--sizes", "16x8,8x8", env={"ARTFORGE_CACHE": str(tmp_path)})
    report = json.loads((out / "quality.json").read_text())
    rows = report["rows"]
    assert {(r["data"], r["recipe"], r["cpu_minutes"]) for r in rows} == {
        (d, r, b) for d in ("full", "small") for r in ("artforge", "official") for b in (0.02, 0.04)}
    table = (out / "quality.md").read_text()
    for row in rows:  # the table shows each row's figures, and its SWD over the official recipe's at that budget
        official = next(r for r in rows if (r["data"], r["cpu_minutes"], r["recipe"]) ==
                        (row["data"], row["cpu_minutes"], "official"))
        cells = f"| {row['steps']:,} | {row['swd']:.1f} | {row['kid_x1e3']:.1f} | {row['swd'] / official['swd']:.2f} |"
        assert row["steps"] >= 1 and cells in table and Path(row["grid"]).is_file()
    assert "SWD x1e3" in table and report["cpu"].split(",")[0] in table
    assert all(Path(f).is_file() for f in report["figures"])


def test_train_throughput_prints_its_table():
    out = run("train_throughput.py", "--rounds", "1", "--steps", "2", "--warmup", "1", "--resolution", "16")
    table = out.stdout
    assert "| variant |" in table and "vs reference" in table and "share of peak" in table
    rows = [line for line in table.splitlines() if line.startswith("| reference") or line.startswith("| artforge")]
    # the reference, DCGAN fp32/bf16, style lite fp32/bf16, the same with bilinear upsampling fp32/bf16,
    # style lite with StyleGAN2's D (bf16)
    assert len(rows) == 8 and "1.00x" in rows[0]
    assert sum("--arch style (lite)" in row for row in rows) == 5 and "--d-arch resnet" in rows[-1]
    assert sum("--upsample bilinear" in row for row in rows) == 2


def test_cluster_variety_measures_pairwise_distances_within_and_over_clusters():
    sys.path.insert(0, str(BENCHMARKS))
    import torch
    from cluster_variety import mean_pairwise_distance, within_cluster
    x = torch.randn(5, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    direct = [float((x[i] - x[j]).norm()) for i in range(5) for j in range(5) if i != j]
    assert abs(mean_pairwise_distance(x) - sum(direct) / len(direct)) < 1e-9
    # cluster 0: three copies of one image (distance 0); cluster 1: a, b, a (pairs 1, 1, 0 -> 2/3 on average)
    a, b = torch.zeros(1, 2, 2), torch.ones(1, 2, 2) * 0.5  # |a - b| = 0.5 * 2 = 1
    images = torch.stack([a, a, a, a, b, a, b])
    labels = torch.tensor([0, 0, 0, 1, 1, 1, 2])  # cluster 2 has a single image: left out
    assert abs(within_cluster(images, labels, per_cluster=24) - (0 + 2 / 3) / 2) < 1e-9


def test_cluster_variety_prints_a_row_per_self_conditioned_run_and_refuses_others(tmp_path):
    import artforge
    from conftest import TINY
    data = write_blob_dataset(tmp_path / "blobs-32.zip", n=96)
    clustered = artforge.train(data, out=tmp_path / "runs", steps=2, self_cond=2, **TINY)
    plain = artforge.train(data, out=tmp_path / "runs", steps=2, self_cond=0, **TINY)
    out = run("cluster_variety.py", str(clustered.run_dir), "--real", str(data), "--per-cluster", "4",
              "--overall", "8")
    row = [line for line in out.stdout.splitlines() if line.startswith(f"| {clustered.run_dir} |")]
    cells = row[0].strip("|").split("|")
    # a two-step G draws nearly one image, so only the real images' figures must be above 0; none may be nan
    values = [float(c) for c in cells[3:]]
    assert int(cells[2]) == 2 and not any(math.isnan(v) for v in values), row
    assert values[2] > 0, row  # can fail: 0 where the run's clusters leave no two real images together
    # "real over all": the mean distance of the first 8 training images (pixels in [0, 1]), by scipy
    from scipy.spatial.distance import pdist
    from artforge.data.archive import open_dataset
    dataset = open_dataset(data)
    first = np.stack([dataset.read(int(i)) for i in dataset.indices("train")[:8]]).reshape(8, -1) / 255
    assert values[3] == pytest.approx(pdist(first).mean(), abs=0.006), row
    refused = subprocess.run([sys.executable, str(BENCHMARKS / "cluster_variety.py"), str(plain.run_dir),
                              "--real", str(data)], capture_output=True, text=True)
    assert refused.returncode != 0 and "was not trained with self-conditioning" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_assertion_audit_counts_each_shape_and_skips_the_real_checks(tmp_path, capsys):
    sys.path.insert(0, str(BENCHMARKS))
    from assertion_audit import audit, main
    (tmp_path / "test_x.py").write_text(
        "def test_a(r, d, x, code, a, b):\n"
        "    assert r['swd'] > 0\n"  # zero-bound
        "    assert (x >= 0).all() and len(x) >= 1\n"  # zero-bound, once
        "    assert 0 <= r['precision'] <= 1\n"  # range
        "    assert x.min() >= -1 - 1e-5\n"  # range: a tolerance is the same bound
        "    assert 'fid' in r\n"  # key-present
        "    assert x is not None\n"  # not-none
        "    assert isinstance(x, float)\n"  # isinstance
        "    assert r['precision'] in ('fp32', 'bf16')\n"  # one-of
        "    assert r['d'] >= 0  # can fail: a count after a subtraction\n"  # kept
        "    assert a - b > 0\n"  # an ordering: not counted
        "    assert 0 <= r['x'] <= 0.05\n"  # a narrow range is a known value
        "    assert code != 0 and 'no such file' in err\n"  # an exit code and text in output
        "    assert not any(k in ('step', 'time') for k in d)\n"  # under a not
        "    assert r['fid'] == 1.5\n"
    )
    hits = audit(tmp_path)["test_x.py"]
    assert [(line, cat, kept) for line, cat, kept, _ in hits] == [
        (2, "zero-bound", False), (3, "zero-bound", False), (4, "range", False), (5, "range", False),
        (6, "key-present", False), (7, "not-none", False), (8, "isinstance", False), (9, "one-of", False),
        (10, "zero-bound", True)]
    assert main(["--tests", str(tmp_path)]) == 0
    assert "| test_x.py | 2 | 2 | 1 | 1 | 1 | 1 | 8 | 1 |" in capsys.readouterr().out
    assert main(["--tests", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--tests" in err and "Traceback" not in err


def test_compare_runs_prints_the_published_comparison_and_reads_results_files(tmp_path):
    out = run("compare_runs.py", "--published", "style-vs-dcgan-zen4").stdout
    swd = next(line for line in out.splitlines() if line.startswith("| swd"))
    assert "| 3, 14.57 ± 3.725 | 3, 15.31 ± 1.045 |" in swd and swd.endswith("| within noise |")
    fid = next(line for line in out.splitlines() if line.startswith("| fid"))
    assert fid.endswith("| no claim: its judge saw the scored images |")  # the same-data encoder ranks nothing
    out = run("compare_runs.py", "--published", "style-vs-dcgan").stdout
    swd = next(line for line in out.splitlines() if line.startswith("| swd"))
    assert "| 3, 13.43 ± 0.8874 | 3, 15.31 ± 1.046 |" in swd  # the bootstrap says style, Welch's interval does not:
    assert swd.endswith("| style better (Welch: within noise) |")  # three seeds, flagged
    fid = next(line for line in out.splitlines() if line.startswith("| fid"))
    assert fid.endswith("| no claim: its judge fails the sanity table (benchmarks/extractor_sanity.py) |")
    for i, (fid_a, fid_b) in enumerate([(1.0, 2.0), (1.1, 2.1), (0.9, 1.9)]):
        (tmp_path / f"a{i}.json").write_text(json.dumps({"results": {"fid": fid_a}}))
        (tmp_path / f"b{i}.json").write_text(json.dumps({"results": {"fid": fid_b}}))
    out = run("compare_runs.py", "--a", *[str(tmp_path / f"a{i}.json") for i in range(3)],
              "--b", *[str(tmp_path / f"b{i}.json") for i in range(3)], "--metric", "fid", "--names", "new,old").stdout
    assert "| new better |" in out


def test_mood_judge_calibration_names_a_missing_dataset_in_one_line(tmp_path):
    missing = tmp_path / "no-bach.zip"
    out = subprocess.run([sys.executable, str(BENCHMARKS / "mood_judge_calibration.py"), str(missing)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and str(missing) in out.stderr and "artforge prepare" in out.stderr


def test_compare_checkouts_finds_a_revision_bit_identical_to_itself_and_names_an_unknown_case():
    # HEAD against this working tree: the same training code, so the same weights (dcgan) and samples (toy)
    out = run("compare_checkouts.py", "--base", "HEAD", "--cases", "dcgan,toy", "--rounds", "1", "--steps", "4",
              "--threads", "1").stdout
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith(("| dcgan", "| toy"))]
    assert [cells[0].strip() for cells in rows] == ["dcgan", "toy"]
    for case, steps, base, this, ratio, same in (map(str.strip, cells) for cells in rows):
        assert steps == "4" and same == "yes" and float(ratio) == pytest.approx(float(this) / float(base), abs=2e-3)
    refused = subprocess.run([sys.executable, str(BENCHMARKS / "compare_checkouts.py"), "--base", "HEAD",
                              "--cases", "dcgan,nosuch"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr and refused.stderr.count("\n") == 1
    assert "'nosuch'" in refused.stderr and "--cases" in refused.stderr and "musegan" in refused.stderr


def test_compare_checkouts_says_identical_only_when_every_run_of_both_codes_agrees():
    sys.path.insert(0, str(BENCHMARKS))
    from compare_checkouts import identical

    assert identical({"abc123": {"x"}, "this": {"x"}}, "abc123") == "yes"
    assert identical({"abc123": {"x"}, "this": {"y"}}, "abc123") == "no"
    assert identical({"abc123": {"x"}, "this": {"x", "y"}}, "abc123") == "no (this: runs differ among themselves)"
