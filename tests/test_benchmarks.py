"""The training benchmarks run end to end on a tiny budget (their figures are in the README, not here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    for row in rows:
        assert row["steps"] >= 1 and row["swd"] > 0 and Path(row["grid"]).is_file()
    table = (out / "quality.md").read_text()
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
    assert int(cells[2]) == 2 and all(v >= 0 for v in values) and values[2] > 0 and values[3] > 0, row
    refused = subprocess.run([sys.executable, str(BENCHMARKS / "cluster_variety.py"), str(plain.run_dir),
                              "--real", str(data)], capture_output=True, text=True)
    assert refused.returncode != 0 and "was not trained with self-conditioning" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_compare_runs_prints_the_published_comparison_and_reads_results_files(tmp_path):
    out = run("compare_runs.py", "--published", "style-vs-dcgan").stdout
    swd = next(line for line in out.splitlines() if line.startswith("| swd"))
    assert "| 3, 14.57 ± 3.725 | 3, 15.31 ± 1.045 |" in swd and swd.endswith("| within noise |")
    for i, (fid_a, fid_b) in enumerate([(1.0, 2.0), (1.1, 2.1), (0.9, 1.9)]):
        (tmp_path / f"a{i}.json").write_text(json.dumps({"results": {"fid": fid_a}}))
        (tmp_path / f"b{i}.json").write_text(json.dumps({"results": {"fid": fid_b}}))
    out = run("compare_runs.py", "--a", *[str(tmp_path / f"a{i}.json") for i in range(3)],
              "--b", *[str(tmp_path / f"b{i}.json") for i in range(3)], "--metric", "fid", "--names", "new,old").stdout
    assert "| new better |" in out
