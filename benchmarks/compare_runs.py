"""Two groups of per-seed scores: n, mean and spread of each, the difference of means with a seeded
bootstrap 95% interval (10,000 resamples) and Welch's t interval, and the verdict.

"A better" or "B better" only where the bootstrap interval excludes zero; else "within noise". With
three seeds a group the percentile bootstrap is too narrow (see artforge/metrics/compare.py), so a
verdict that Welch's interval does not share is flagged.

    # scores given on the command line (one metric)
    python benchmarks/compare_runs.py --a 12.15,12.70,18.86 --b 15.15,14.36,16.43 --names style,dcgan --metric swd
    # the results JSON of each run's evaluation (artforge evaluate RUN ... writes RUN/eval/<checkpoint>.json)
    python benchmarks/compare_runs.py --a runs/0001*/eval/best.json --b runs/0002*/eval/best.json --metric fid,kid,swd
    # a published table: its per-seed scores are kept in this script (PUBLISHED), with the commands that made them
    python benchmarks/compare_runs.py --published style-vs-dcgan        # (and style-vs-dcgan-zen4, the earlier one)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

LOWER_IS_BETTER = {"fid", "kid", "swd", "class_kl", "near_copy_share"}

# Per-seed scores published in README.md and docs/style.md, as measured (not re-run here). Each names the
# commands that produced it. "no_claim": metrics whose judge may not rank models, and why (issue 37).
SPLIT_ENCODER_FAILS = "no claim: its judge fails the sanity table (benchmarks/extractor_sanity.py)"
SAW_THE_IMAGES = "no claim: its judge saw the scored images"
PUBLISHED = {
    "style-vs-dcgan": {
        "names": ("style", "dcgan"),
        "cpu": "2-core AMD EPYC (Zen 5), 2026-12-07/08, bf16 chosen by --precision auto; the CPU shared with "
               "other work (niced) for all but style seed 1: 6,100-10,603 steps (style), 8,756-16,071 (dcgan)",
        "commands": ["artforge prepare openmoji --size 64 --out datasets/openmoji-64.zip",
                     "artforge train datasets/openmoji-64.zip [--arch style] --minutes 15 --seed S (S = 0, 1, 2)",
                     "artforge evaluate RUN --real datasets/openmoji-64.zip --metrics swd --n 5000",
                     "artforge evaluate RUN --real datasets/openmoji-64.zip --extractor encoder --metrics fid,kid "
                     "--n 5000   (the encoder of version 2: trained on one half, scored against the other)"],
        "scores": {
            "swd": ([12.8132, 13.0337, 14.4485], [15.1486, 14.3593, 16.4309]),
            "fid (split encoder)": ([0.6280, 0.5718, 0.6106], [0.7249, 0.8101, 0.8570]),
            "kid (split encoder)": ([0.000703, 0.000599, 0.000495], [0.000819, 0.001238, 0.001913]),
        },
        "no_claim": {"fid (split encoder)": SPLIT_ENCODER_FAILS, "kid (split encoder)": SPLIT_ENCODER_FAILS},
    },
    "style-vs-dcgan-zen4": {  # the earlier measurement, kept as published then
        "names": ("style", "dcgan"),
        "cpu": "2-core AMD EPYC (Zen 4), 2026-12-01, bf16 chosen by --precision auto",
        "commands": ["artforge train datasets/openmoji-64.zip [--arch style] --minutes 15 --seed S (S = 0, 1, 2)",
                     "artforge evaluate RUN --real datasets/openmoji-64.zip --extractor encoder "
                     "--metrics fid,kid,swd --n 5000"],
        "scores": {
            "swd": ([12.15, 12.70, 18.86], [15.15, 14.36, 16.43]),
            "fid (v1 same-data encoder)": ([0.55, 0.52, 0.68], [0.667, 0.729, 0.795]),
            "kid (v1 same-data encoder)": ([0.00084, 0.00036, 0.00051], [0.00085, 0.00123, 0.0023]),
        },
        "no_claim": {"fid (v1 same-data encoder)": SAW_THE_IMAGES, "kid (v1 same-data encoder)": SAW_THE_IMAGES},
    },
}


def parse_group(values: list[str], metrics: list[str]) -> dict[str, list[float]]:
    """Comma-separated numbers (one metric), or results JSON files (each metric read from 'results')."""
    if len(values) == 1 and not Path(values[0]).exists():
        try:
            numbers = [float(v) for v in values[0].split(",") if v.strip()]
        except ValueError:
            sys.exit(f"error: {values[0]!r} is neither comma-separated numbers nor a results file; "
                     "pass e.g. --a 1.2,1.4,1.1 or --a RUN/eval/best.json ...")
        if len(metrics) != 1:
            sys.exit("error: numbers on the command line are one metric's; pass --metric with one name")
        return {metrics[0]: numbers}
    scores: dict[str, list[float]] = {m: [] for m in metrics}
    for value in values:
        path = Path(value)
        try:
            results = json.loads(path.read_text())["results"]
        except (OSError, ValueError, KeyError):
            sys.exit(f"error: {value} is not a results JSON of artforge evaluate; pass RUN/eval/<checkpoint>.json")
        for m in metrics:
            if m not in results:
                sys.exit(f"error: {value} has no {m!r} result; evaluate that run with --metrics {m}")
            scores[m].append(float(results[m]))
    return scores


def fmt(x: float) -> str:
    return f"{x:.4g}"


def table(scores_a: dict, scores_b: dict, names: tuple[str, str], seed: int,
          no_claim: dict | None = None) -> list[str]:
    from artforge.metrics.compare import compare_groups

    a, b = names
    lines = [f"| metric | {a}: n, mean ± std | {b}: n, mean ± std | {a} − {b} | bootstrap 95% | Welch 95% "
             "| verdict |",
             "|---|---|---|---|---|---|---|"]
    for metric, xs in scores_a.items():
        better = "lower" if metric.split()[0] in LOWER_IS_BETTER else "higher"
        out = compare_groups(xs, scores_b[metric], better, names, seed=seed)
        ga, gb, (lo, hi) = out["a"], out["b"], out["bootstrap_ci95"]
        welch = out["welch_ci95"]
        flag = ""
        if metric in (no_claim or {}):
            out["verdict"] = no_claim[metric]
        elif welch and out["verdict"] != "within noise" and welch[0] <= 0 <= welch[1]:
            flag = " (Welch: within noise)"
        lines.append(f"| {metric} ({better} is better) | {ga['n']}, {fmt(ga['mean'])} ± {fmt(ga['std'])} "
                     f"| {gb['n']}, {fmt(gb['mean'])} ± {fmt(gb['std'])} | {fmt(out['difference'])} "
                     f"| {fmt(lo)} .. {fmt(hi)} | {f'{fmt(welch[0])} .. {fmt(welch[1])}' if welch else 'n/a'} "
                     f"| {out['verdict']}{flag} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", nargs="+", help="group A: comma-separated scores, or results JSON files")
    parser.add_argument("--b", nargs="+", help="group B: the same")
    parser.add_argument("--metric", default="fid", help="metric name(s), comma-separated (default fid)")
    parser.add_argument("--names", default="A,B", help="the groups' names (default A,B)")
    parser.add_argument("--published", choices=sorted(PUBLISHED), help="a published comparison kept in this script")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    args = parser.parse_args()
    if args.published:
        entry = PUBLISHED[args.published]
        names = entry["names"]
        scores_a = {m: v[0] for m, v in entry["scores"].items()}
        scores_b = {m: v[1] for m, v in entry["scores"].items()}
        print(f"{args.published}: per-seed scores as published ({entry['cpu']}), from:")
        for command in entry["commands"]:
            print(f"    {command}")
        print()
    else:
        if not args.a or not args.b:
            sys.exit("error: pass --a and --b (scores or results files), or --published NAME")
        names = tuple(args.names.split(","))
        if len(names) != 2:
            sys.exit("error: --names takes two names, e.g. --names style,dcgan")
        metrics = [m.strip() for m in args.metric.split(",") if m.strip()]
        scores_a, scores_b = parse_group(args.a, metrics), parse_group(args.b, metrics)
    no_claim = PUBLISHED[args.published].get("no_claim", {}) if args.published else {}
    print("\n".join(table(scores_a, scores_b, names, args.seed, no_claim)))
    print(f"\n(bootstrap: each group's seeds resampled with replacement, 10,000 times, seed {args.seed}; "
          "'better' only where the bootstrap interval excludes 0)")


if __name__ == "__main__":
    main()
