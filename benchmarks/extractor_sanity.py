"""Which feature extractors may rank models? The sanity table of docs/evaluation.md.

For each extractor (the dataset's encoder, trained on its own half of the dataset; the fixed-seed
random network; Inception when --inception-weights is given), on real images the encoder never saw
(the held-out half): FID and KID of distorted copies against clean references, at increasing levels
of Gaussian blur, additive noise, JPEG compression and the number of modes dropped (k-means clusters
of 16x16 pixel thumbnails, a space none of the extractors uses), and the near-copy share that
novelty.py's rule gives a "generator" returning JPEG-90 copies of the reference images. A row
passes when every level scores worse than the one before by more than the sampling noise (the 2.5%
quantile of the step's difference over bootstrap resamples of both sets is above zero), and, for
the copies, when they are flagged (at least 90% of pure copies, at most 5% of fresh held-out
images; fixed before the first run). An extractor that fails a row is marked "not for claims".

    artforge prepare openmoji --size 64 --out datasets/openmoji-64.zip
    OMP_NUM_THREADS=1 python benchmarks/extractor_sanity.py --dataset datasets/openmoji-64.zip
    python benchmarks/extractor_sanity.py --inception-weights pt_inception-2015-12-05-6726825d.pth
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import numpy as np  # noqa: E402

import cpuinfo  # noqa: E402

BLUR = [0, 0.5, 1, 2, 4]  # Gaussian sigma, pixels at 64 px
NOISE = [0, 8, 16, 32, 64]  # grey levels of 255
JPEG = [None, 50, 25, 10, 5]  # quality (None: not compressed)
CLUSTERS = 10
MODES = [0, 1, 2, 4, 6]  # clusters dropped of CLUSTERS
COPY_SHARES = [0, 0.25, 0.5, 1.0]
COPY_QUALITY = 90  # copies are JPEG-90 re-encodings: a memoriser rarely returns the exact pixels
FLAGGED_COPIES_MIN, FLAGGED_FRESH_MAX = 0.9, 0.05


def features_of(extractor, images, batch: int = 256) -> np.ndarray:
    return np.concatenate([extractor(images[i:i + batch])["features"].numpy() for i in range(0, len(images), batch)])


def build_extractors(args, dataset):
    import torch

    from artforge.metrics.extractors import make_extractor

    cpu = torch.device("cpu")
    makers = {"encoder": lambda: make_extractor("encoder", device=cpu, dataset=dataset, progress=True),
              "random": lambda: make_extractor("random", device=cpu),
              "inception": lambda: (make_extractor("inception", device=cpu, weights=args.inception_weights)
                                    if args.inception_weights else None)}
    for name in args.extractors:
        yield name, makers[name]()


def distortion_rows(real_f, test_images, extract, args, labels, order) -> list[dict]:
    from artforge.metrics import sanity

    n_test = args.n_test
    fakes = {
        "blur (sigma, px)": (BLUR, [sanity.blur(test_images[:n_test], s) for s in BLUR]),
        "noise (std, of 255)": (NOISE, [sanity.noise(test_images[:n_test], s, seed=args.seed) for s in NOISE]),
        "JPEG (quality)": (["none" if q is None else q for q in JPEG],
                           [sanity.jpeg(test_images[:n_test], q) for q in JPEG]),
    }
    n_modes = min(n_test, int(np.sum(~np.isin(labels, order[:max(MODES)]))))
    fakes[f"modes dropped (of {CLUSTERS} clusters, {n_modes} images)"] = (
        MODES, [test_images[sanity.drop_modes(labels, d, order, n_modes, seed=args.seed)] for d in MODES])
    rows = []
    for name, (levels, images) in fakes.items():
        feats = [extract(im) for im in images]
        rows.append(score_row(name, levels, real_f, feats, args))
    return rows


def score_row(name, levels, real_f, feats, args) -> dict:
    from artforge.metrics import sanity
    from artforge.metrics.kid import kid

    scores = [sanity.fid_and_kid(real_f, f, seed=args.seed) for f in feats]
    fid = [s[0] for s in scores]
    kids = [s[1] for s in scores]
    m = min(len(real_f), len(feats[0]))
    fid_boot = sanity.bootstrap_levels(real_f, feats, sanity.fid_symmetric, args.resamples, args.seed)
    kid_boot = sanity.bootstrap_levels(real_f, feats, lambda r, f: kid(r, f, subsets=1, subset_size=m)["kid"],
                                       args.resamples, args.seed)
    fid_check, kid_check = sanity.monotone_check(fid, fid_boot), sanity.monotone_check(kids, kid_boot)
    return {"row": name, "levels": levels, "fid": fid, "kid": kids, "fid_check": fid_check, "kid_check": kid_check,
            "passed": fid_check["passed"] and kid_check["passed"]}


def copies_row(real_f, real_images, fresh_images, extract, args) -> dict:
    from artforge.metrics import sanity
    from artforge.metrics.fid import fid_from_features

    copies = sanity.jpeg(real_images, COPY_QUALITY)
    fresh = fresh_images[:args.n_test]
    feats = [extract(sanity.mix_copies(fresh, copies, share, seed=args.seed)) for share in COPY_SHARES]
    shares, resampled, _ = sanity.near_copy_shares(feats, real_f, resamples=args.resamples, seed=args.seed)
    check = sanity.monotone_check(shares, resampled)
    flagged = shares[-1] >= FLAGGED_COPIES_MIN and shares[0] <= FLAGGED_FRESH_MAX
    return {"row": f"near-copies of the references (JPEG {COPY_QUALITY}), share", "levels": COPY_SHARES,
            "flagged": shares, "fid": [fid_from_features(real_f, f) for f in feats], "check": check,
            "passed": check["passed"] and flagged}


def pixel_copies_row(real_images, fresh_images, args) -> dict:
    """The same copies row in pixel space (32x32 thumbnails, the space of evaluate's near_copy_share_pixel):
    no extractor involved, shown beside the extractors' rows."""
    from artforge.metrics import sanity

    copies = sanity.jpeg(real_images, COPY_QUALITY)
    fresh = fresh_images[:args.n_test]
    pixels = [sanity.thumbnails(sanity.mix_copies(fresh, copies, share, seed=args.seed), 32) for share in COPY_SHARES]
    shares, resampled, _ = sanity.near_copy_shares(pixels, sanity.thumbnails(real_images, 32),
                                                   resamples=args.resamples, seed=args.seed)
    check = sanity.monotone_check(shares, resampled)
    flagged = shares[-1] >= FLAGGED_COPIES_MIN and shares[0] <= FLAGGED_FRESH_MAX
    return {"shares": shares, "check": check, "passed": check["passed"] and flagged}


def verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def fmt_levels(values, scale: float = 1.0, digits: int = 3) -> str:
    return " / ".join(f"{v * scale:.{digits}g}" for v in values)


def print_table(results: dict, args, seconds: float, pixel: dict) -> None:
    print(f"CPU: {cpuinfo.describe()}")
    print(f"command: OMP_NUM_THREADS=1 python benchmarks/extractor_sanity.py --dataset {args.dataset} "
          f"--n-ref {args.n_ref} --n-test {args.n_test} --resamples {args.resamples} --seed {args.seed} "
          f"--extractors {','.join(args.extractors)}"
          + (" --inception-weights ..." if args.inception_weights else ""))
    print(f"{args.describe}; {seconds:.0f} s\n")
    print("| extractor | row | levels | FID per level | KID x1e3 per level | FID steps' 95% lower bounds "
          "| KID | FID | row |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, rows in results.items():
        if rows is None:
            print(f"| {name} | every row | | | | | | | not run: no weights |")
            continue
        for r in rows:
            if "flagged" in r:
                print(f"| {name} | {r['row']} | {fmt_levels(r['levels'])} | {fmt_levels(r['fid'])} (copies lower it) "
                      f"| flagged: {fmt_levels(r['flagged'])} | share steps' lower bounds: "
                      f"{fmt_levels(r['check']['lower_bounds'], digits=2)} | | | "
                      f"{'pass' if r['passed'] else 'FAIL'} |")
                continue
            print(f"| {name} | {r['row']} | {' / '.join(map(str, r['levels']))} "
                  f"| {fmt_levels(r['fid'])} | {fmt_levels(r['kid'], 1e3)} "
                  f"| {fmt_levels(r['fid_check']['lower_bounds'], digits=2)} "
                  f"| {verdict(r['kid_check']['passed'])} | {verdict(r['fid_check']['passed'])} "
                  f"| {'pass' if r['passed'] else 'FAIL'} |")
    print(f"| (pixels, 32x32: no extractor) | near-copies of the references (JPEG {COPY_QUALITY}), share "
          f"| {fmt_levels(COPY_SHARES)} | | flagged: {fmt_levels(pixel['shares'])} | share steps' lower bounds: "
          f"{fmt_levels(pixel['check']['lower_bounds'], digits=2)} | | | {'pass' if pixel['passed'] else 'FAIL'} |")
    print()
    for name, rows in results.items():
        if rows is None:
            print(f"- {name}: not run (no weights given): not for claims until it is")
            continue
        failed = [r["row"] for r in rows if not r["passed"]]
        print(f"- {name}: " + ("passes every row: may be used for claims" if not failed
                               else f"not for claims (fails: {'; '.join(failed)})"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="datasets/openmoji-64.zip")
    parser.add_argument("--inception-weights", help="pt_inception-2015-12-05-6726825d.pth, to add Inception's rows")
    parser.add_argument("--n-ref", type=int, default=1000, help="clean held-out reference images")
    parser.add_argument("--n-test", type=int, default=1000, help="held-out images distorted at each level")
    parser.add_argument("--resamples", type=int, default=50, help="bootstrap resamples for the noise of each step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extractors", default="encoder,random,inception", help="which rows (comma-separated)")
    args = parser.parse_args()
    args.extractors = [e.strip() for e in args.extractors.split(",") if e.strip()]
    unknown = set(args.extractors) - {"encoder", "random", "inception"}
    if unknown:
        sys.exit(f"error: --extractors {','.join(sorted(unknown))}: not known; pass encoder, random or inception")
    if not Path(args.dataset).exists():
        sys.exit(f"error: dataset {args.dataset} not found; make it with "
                 "'artforge prepare openmoji --size 64 --out datasets/openmoji-64.zip'")
    if args.inception_weights and not Path(args.inception_weights).is_file():
        sys.exit(f"error: --inception-weights {args.inception_weights}: no such file")

    import torch

    from artforge.data.archive import open_dataset
    from artforge.data.loader import decode_all
    from artforge.metrics import sanity
    from artforge.metrics.encoder import split_indices

    torch.set_num_threads(int(__import__("os").environ.get("OMP_NUM_THREADS", "1")))
    started = time.time()
    dataset = open_dataset(args.dataset)
    _, held_out = split_indices(dataset.names)  # every extractor is judged on images the encoder never saw
    order = np.random.default_rng(args.seed).permutation(held_out)
    if len(order) < args.n_ref + args.n_test:
        sys.exit(f"error: {len(order)} held-out images; --n-ref + --n-test ({args.n_ref + args.n_test}) is too many")
    real_images = decode_all(dataset, np.sort(order[:args.n_ref]))
    test_images = decode_all(dataset, np.sort(order[args.n_ref:]))  # the pool distortions and mode drops draw on
    labels = sanity.kmeans_labels(sanity.thumbnails(test_images), CLUSTERS, seed=args.seed)
    mode_order = np.random.default_rng(args.seed).permutation(CLUSTERS)
    args.describe = (f"{args.dataset}: {len(held_out)} held-out images of {len(dataset.names)} (the encoder's "
                     f"split, seed 0, half); {args.n_ref} references, {args.n_test} distorted images "
                     f"(pool {len(test_images)}); {args.resamples} bootstrap resamples; clusters: k-means "
                     f"(k={CLUSTERS}) of 16x16 pixel thumbnails, dropped in a seeded order")
    results = {}
    for name, extractor in build_extractors(args, dataset):
        if extractor is None:
            results[name] = None
            continue

        def extract(images, extractor=extractor):
            return features_of(extractor, images)

        real_f = extract(real_images)
        rows = distortion_rows(real_f, test_images, extract, args, labels, mode_order)
        rows.append(copies_row(real_f, real_images, test_images, extract, args))
        results[name] = rows
        print(f"{name}: done at {time.time() - started:.0f} s", file=sys.stderr)
    pixel = pixel_copies_row(real_images, test_images, args)
    print_table(results, args, time.time() - started, pixel)


if __name__ == "__main__":
    main()
