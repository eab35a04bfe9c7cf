"""artforge evaluate, end to end on tiny sets: runs and folders, every metric, caching, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from artforge.cli import main
from artforge.options import EvaluateConfig, SampleConfig
from artforge.errors import UsageError
from artforge.metrics.evaluate import evaluate
from artforge.sampling import sample_to_folder

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ARTFORGE_CACHE", str(tmp_path / "cache"))


class MeanColour(torch.nn.Module):
    """A tiny TorchScript-able 'feature network': mean colour per image quadrant (12 numbers)."""

    def forward(self, x):
        return torch.nn.functional.adaptive_avg_pool2d(x, 2).flatten(1)


@pytest.fixture(scope="module")
def scripted_extractor(tmp_path_factory):
    """The user's own network, saved the current way: torch.export (.pt2)."""
    path = tmp_path_factory.mktemp("ext") / "meancolour.pt2"
    batch = torch.export.Dim("batch", min=1)
    program = torch.export.export(MeanColour(), (torch.rand(2, 3, 32, 32),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(path))
    return str(path)


def cfg(**kw) -> EvaluateConfig:
    return EvaluateConfig(**{"n": 24, "progress": False, "device": "cpu", "kid_subset_size": 8, "kid_subsets": 10, **kw})


def test_run_with_swd_needs_no_network_and_records_settings(trained_run, tmp_path):
    report = evaluate(cfg(run=str(trained_run), metrics=("swd",)))
    r = report["results"]
    assert set(r) == {"swd32", "swd16", "swd"}
    # A 10-step generator is far from its data; 24 of the data's own images are near it.
    folder = tmp_path / "data-images"
    folder.mkdir()
    for i, image in enumerate(_dataset_images(trained_run)[:24]):
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    itself = evaluate(cfg(real=str(_dataset_path(trained_run)), fake=str(folder), metrics=("swd",), cache=False))
    assert r["swd"] > 3 * itself["results"]["swd"], (r, itself["results"])
    saved = json.loads(open(report["path"]).read())
    assert saved["results"] == r and saved["extractor"] is None
    assert saved["fake"]["kind"] == "generator" and saved["fake"]["images"] == 24
    assert saved["settings"]["swd_patches_per_image"] == 64 and saved["settings"]["seed"] == 0
    assert report["path"].endswith(f"eval/{saved['fake']['checkpoint']}.json")


def test_identical_folders_score_perfectly(tmp_path, blob_dataset, scripted_extractor):
    from artforge.data.archive import open_dataset
    ds = open_dataset(blob_dataset)
    (tmp_path / "a").mkdir()
    for i in range(24):  # distinct discs: a well-spread set
        Image.fromarray(ds.read(i)).save(tmp_path / "a" / f"{i:03d}.png")
    report = evaluate(cfg(real=str(tmp_path / "a"), fake=str(tmp_path / "a"), extractor=scripted_extractor,
                          metrics=("fid", "kid", "pr", "dc", "swd", "novelty"), out=str(tmp_path / "r.json")))
    r = report["results"]
    assert r["fid"] == pytest.approx(0, abs=1e-6) and r["swd"] == 0
    assert r["precision"] == 1 and r["recall"] == 1 and r["coverage"] == 1
    assert r["near_copy_share"] == 1  # every image is its own nearest training image
    assert (tmp_path / "r-nearest.png").exists()


def test_a_run_against_its_dataset_with_all_feature_metrics(trained_run, scripted_extractor):
    report = evaluate(cfg(run=str(trained_run), extractor=scripted_extractor,
                          metrics=("fid", "kid", "pr", "dc", "swd", "novelty")))
    r = report["results"]
    # FID and precision recomputed here from the same features (quadrant mean colours of the dataset
    # and of seeds 0..23) with scipy: the pipeline feeds the metrics the images it says it does.
    real, fake = _quadrant_means(_dataset_images(trained_run)), _quadrant_means(_run_images(trained_run, 24))
    assert r["fid"] == pytest.approx(_reference_fid(real, fake), rel=1e-4)
    assert r["precision"] == pytest.approx(_reference_precision(real, fake, k=3))
    assert report["extractor"]["name"] == "user"
    assert report["real"]["kind"] == "dataset" and report["real"]["cached"] is False
    assert report["nearest_grid"] and Image.open(report["nearest_grid"]).size[0] > 64


def _dataset_path(run) -> str:
    return json.loads((run / "options.json").read_text())["dataset"]["path"]


def _dataset_images(run) -> np.ndarray:
    from artforge.data.archive import open_dataset
    dataset = open_dataset(_dataset_path(run))
    return np.stack([dataset.read(i) for i in range(len(dataset))])  # (N, H, W, 3) uint8


def _dataset_labels(run) -> np.ndarray:
    from artforge.data.archive import open_dataset
    return open_dataset(_dataset_path(run)).labels


def _run_images(run, n: int) -> np.ndarray:
    from artforge.sampling import load
    return load(run, device="cpu").sample(seeds=list(range(n)), truncation=1.0)


def _quadrant_means(images: np.ndarray) -> np.ndarray:
    """MeanColour's features in numpy: the mean of each colour channel over each image quadrant."""
    x = images.astype(np.float64) / 255
    h, w = x.shape[1] // 2, x.shape[2] // 2
    quads = [x[:, i * h:(i + 1) * h, j * w:(j + 1) * w].mean(axis=(1, 2)) for i in (0, 1) for j in (0, 1)]
    return np.stack(quads, axis=2).reshape(len(x), -1)  # channel-major, as adaptive_avg_pool2d(x, 2).flatten(1)


def _reference_fid(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import linalg
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(ca @ cb).real
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca + cb - 2 * root))


def _reference_precision(real: np.ndarray, fake: np.ndarray, k: int) -> float:
    """Share of fake features inside the k-NN ball of some real feature (Kynkaanniemi et al. 2019)."""
    from scipy.spatial.distance import cdist
    within = cdist(real, real)
    np.fill_diagonal(within, np.inf)
    radii = np.sort(within, axis=1)[:, k - 1]
    return float(np.mean((cdist(real, fake) <= radii[:, None]).any(axis=0)))


def _inception_outputs(model, images: np.ndarray) -> dict[str, np.ndarray]:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    x = torch.nn.functional.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) * 2 - 1
    with torch.no_grad():
        out = model(x)
    return {k: out[k].double().numpy() for k in ("pool", "logits")}


def _reference_fid_low_rank(a: np.ndarray, b: np.ndarray) -> float:
    """FID of fewer samples than dimensions: with C1 = A'A and C2 = B'B (A, B the centred samples over
    sqrt(n - 1)), the eigenvalues of C1 C2 are the squared singular values of A B', so
    tr sqrt(C1 C2) is the sum of those singular values (no sqrtm of a singular 2048 x 2048 matrix)."""
    ca, cb = ((x - x.mean(0)) / np.sqrt(len(x) - 1) for x in (a, b))
    cross = np.linalg.svd(ca @ cb.T, compute_uv=False).sum()
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.sum(ca ** 2) + np.sum(cb ** 2) - 2 * cross)


def _reference_inception_score(logits: np.ndarray, parts: int) -> float:
    """exp(mean KL(p(y|x) || p(y))) in each of ``parts`` consecutive parts (rows i n // parts on), averaged."""
    from scipy.special import softmax
    p, n = softmax(logits, axis=1), len(logits)
    scores = []
    for i in range(parts):
        q = p[i * n // parts:(i + 1) * n // parts]
        scores.append(np.exp(np.mean(np.sum(q * np.log(q / q.mean(0)), axis=1))))
    return float(np.mean(scores))


def test_reference_features_are_cached_and_reused(trained_run, scripted_extractor):
    first = evaluate(cfg(run=str(trained_run), extractor=scripted_extractor, metrics=("fid", "swd")))
    again = evaluate(cfg(run=str(trained_run), extractor=scripted_extractor, metrics=("fid", "swd")))
    assert first["real"]["cached"] is False and again["real"]["cached"] is True
    assert again["results"] == first["results"]


def test_results_do_not_depend_on_the_batch_size(trained_run, scripted_extractor):
    a = evaluate(cfg(run=str(trained_run), extractor=scripted_extractor, metrics=("fid", "swd"), batch=5,
                     cache=False))["results"]
    b = evaluate(cfg(run=str(trained_run), extractor=scripted_extractor, metrics=("fid", "swd"), batch=24,
                     cache=False))["results"]
    assert a["fid"] == pytest.approx(b["fid"], rel=1e-5) and a["swd"] == pytest.approx(b["swd"], rel=1e-3)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # 6 samples in 2048-d: singular, as expected
def test_inception_metrics_with_weights_built_in_the_test(tmp_path, trained_run):
    from artforge.metrics.inception import FIDInceptionV3
    torch.manual_seed(0)
    weights = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(FIDInceptionV3().state_dict(), weights)
    report = evaluate(cfg(run=str(trained_run), metrics=("fid", "is"), inception_weights=str(weights), n=12,
                          max_real=6, batch=5))
    r = report["results"]
    # Recomputed here from the network's outputs on the same images (the first 6 of the dataset, seeds
    # 0..11), resized by hand: 12 images in 10 parts, so two parts hold two images and IS is not 1.
    model = FIDInceptionV3()
    model.load_state_dict(torch.load(weights))
    real, fake = (_inception_outputs(model.eval(), images) for images in (_dataset_images(trained_run)[:6],
                                                                          _run_images(trained_run, 12)))
    assert r["fid"] == pytest.approx(_reference_fid_low_rank(real["pool"], fake["pool"]), rel=1e-3)
    assert r["is"] == pytest.approx(_reference_inception_score(fake["logits"], parts=10), rel=1e-6)
    assert report["extractor"]["resize"] == "bilinear-torch-align_corners=False"
    assert report["extractor"]["input_size"] == 299


def test_classes_metric_with_a_user_classifier(tmp_path, labeled_dataset):
    import artforge
    from conftest import TINY

    run = artforge.train(labeled_dataset, out=tmp_path / "runs", steps=2, **TINY).run_dir

    class BlueOrRed(torch.nn.Module):
        def forward(self, x):  # x in [0, 1]: more blue than red -> class 0 ("blue")
            return torch.stack([x[:, 2].mean((1, 2)), x[:, 0].mean((1, 2))], dim=1)

    path = tmp_path / "clf.pt"  # TorchScript, the older format, still loads
    with pytest.warns(DeprecationWarning):
        torch.jit.save(torch.jit.script(BlueOrRed()), str(path))
    report = evaluate(cfg(run=str(run), metrics=("classes",), classifier=str(path)))
    r = report["results"]
    assert r["classes"]["label_names"] == ["blue", "red"]
    # The classifier's decisions recomputed here on seeds 0..23: red over blue is "red"; the KL, the
    # coverage rule (at least max(1, 10% of the expected count)) and the accuracy by hand from them.
    from artforge.sampling import load
    model = load(run, device="cpu")
    x = model.sample(seeds=list(range(24)), truncation=1.0).astype(np.float64)
    predicted = (x[..., 0].mean((1, 2)) > x[..., 2].mean((1, 2))).astype(int)
    counts = np.bincount(predicted, minlength=2)
    data = np.bincount(_dataset_labels(run), minlength=2) / len(_dataset_labels(run))
    shares = counts / 24
    kl = sum(h * np.log(h / q) for h, q in zip(shares, data) if h > 0)
    assert r["classes"]["counts"] == counts.tolist() and r["class_kl"] == pytest.approx(kl, abs=1e-12)
    assert r["class_coverage"] == np.mean(counts >= np.maximum(1, 0.1 * 24 * data))
    assert r["class_accuracy"] == pytest.approx(np.mean(predicted == model.labels(list(range(24)), None).numpy()))


def test_a_network_exported_with_a_fixed_batch_fails_in_one_line(tmp_path, trained_run, capsys):
    path = tmp_path / "fixed.pt2"  # exported without a dynamic batch: accepts batches of 2 only
    torch.export.save(torch.export.export(MeanColour(), (torch.rand(2, 3, 32, 32),)), str(path))
    code = main(["evaluate", str(trained_run), "--metrics", "fid", "--extractor", str(path), "--n", "8",
                 "--batch", "4", "--quiet"])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"extractor {path} failed on images of shape (4, 3, 32, 32)" in err and "dynamic batch" in err


def test_missing_inception_weights_is_one_clear_line(tmp_path, trained_run, capsys, monkeypatch):
    monkeypatch.delenv("ARTFORGE_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    code = main(["evaluate", str(trained_run), "--metrics", "fid", "--n", "4", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert "pt_inception-2015-12-05-6726825d.pth" in err[0] and "https://" in err[0]


def test_cli_json_on_stdout_for_two_folders(tmp_path, trained_run, capsys):
    for name, seed in (("real", 0), ("fake", 100)):
        sample_to_folder(SampleConfig(run=str(trained_run), n=12, seed=seed, out=str(tmp_path / name), grid=False))
    capsys.readouterr()
    code = main(["evaluate", "--real", str(tmp_path / "real"), "--fake", str(tmp_path / "fake"), "--metrics", "swd",
                 "--json", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    data = json.loads(out)
    assert data["fake"]["kind"] == "folder" and data["real"]["images"] == 12
    from artforge.ops.swd import swd  # the same score from the function, on the PNGs read here
    real, fake = ([np.asarray(Image.open(f)) for f in sorted((tmp_path / name).glob("*.png"))] for name in ("real", "fake"))
    reference = swd(*(torch.from_numpy(np.stack(x)).permute(0, 3, 1, 2) / 127.5 - 1 for x in (real, fake)),
                    patches_per_image=64, seed=0)
    assert data["results"] == pytest.approx(reference, rel=1e-9)


def test_filter_scores_the_seeds_with_the_smallest_jacobian(tmp_path, trained_run, capsys):
    from artforge.sampling import load

    report = evaluate(cfg(run=str(trained_run), metrics=("swd",), filter="jacobian", filter_drop=0.2))
    sampler = report["fake"]["sampler"]
    assert sampler["draws"] == 30 and report["fake"]["images"] == 24  # 24 kept of 24 / (1 - 0.2) seeds
    norms = load(str(trained_run), device="cpu").jacobian_norms(list(range(30)))
    assert sorted(sampler["dropped_seeds"]) == sorted(norms.argsort()[-6:].tolist())
    assert report["settings"]["filter"] == ["jacobian"]
    assert report["protocol"]["filter"] == ["jacobian"] and report["protocol"]["filter_drop"] == 0.2
    plain = evaluate(cfg(run=str(trained_run), metrics=("swd",)))["results"]["swd"]
    assert report["results"]["swd"] != plain  # other images were scored

    capsys.readouterr()
    assert main(["evaluate", str(trained_run), "--metrics", "swd", "--n", "9", "--filter", "jacobian",
                 "--quiet", "--device", "cpu", "--out", str(tmp_path / "f.json")]) == 0
    out = capsys.readouterr().out
    assert "9 generated (kept by the jacobian filter of 10 seeds)" in out


@pytest.mark.parametrize("kw, needle", [
    (dict(), "nothing to evaluate"),
    (dict(run="r", filter="best"), "--filter must be one of"),
    (dict(run="r", filter="jacobian,d"), "--filter d is for artforge bench only"),
    (dict(run="r", filter="jacobian", filter_drop=1.0), "--filter-drop"),
    (dict(fake="x", real="y", filter="jacobian"), "cannot filter a --fake folder"),
    (dict(run="r", filter="jacobian", filter_drop=0.99, n=10_000), "would score 1,000,000 seeds to keep 10,000"),
    (dict(fake="x"), "--fake needs --real"),
    (dict(run="r", fake="x", real="y"), "not both"),
    (dict(run="r", metrics=("fid", "magic")), "--metrics"),
    (dict(run="r", metrics=("is",), extractor="encoder"), "needs --extractor inception"),
])
def test_bad_options(kw, needle):
    with pytest.raises(UsageError, match=needle):
        EvaluateConfig(**kw)


# ----------------------------------------------------------------------------- the protocol beside the numbers

def test_fid_and_kid_are_named_with_their_protocol(trained_run, tmp_path, scripted_extractor):
    import shutil

    from artforge.metrics.evaluate import summary_lines
    from artforge.reporting import build_html

    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    report = evaluate(cfg(run=str(run), metrics=("fid", "kid", "swd"), extractor=scripted_extractor, split="train"))
    assert report["protocol"] == {"split": "train", "generated": 24, "extractor": "meancolour.pt2",
                                  "truncation": 1.0, "filter": [], "filter_drop": None}
    assert json.loads(open(report["path"]).read())["protocol"] == report["protocol"]
    label = "(train split, 24 images, meancolour.pt2)"
    lines = summary_lines(report)
    assert any(line.split()[0] == "FID" and label in line for line in lines)
    assert any(line.split()[0] == "KID" and label in line for line in lines)
    assert f"FID {label}" in build_html(run)

    swd = evaluate(cfg(run=str(run), metrics=("swd",), truncation=0.5))["protocol"]
    assert swd["split"] == "all" and swd["extractor"] is None and swd["truncation"] == 0.5


def test_protocol_labels_and_results_written_before_protocols():
    from artforge.metrics.results import protocol, protocol_label, report_protocol

    assert protocol_label(protocol(EvaluateConfig(run="r"))) == "all splits, 10,000 images, inception"
    trained = EvaluateConfig(run="r", split="train", n=5000, truncation=0.7, filter="jacobian")
    assert protocol_label(protocol(trained)) == "train split, 5,000 images, inception, truncation 0.7, " \
                                                "jacobian filter F=0.1"
    old = {"settings": {"n": 10000, "truncation": 1.0, "filter": "none", "filter_drop": 0.1},
           "real": {"kind": "dataset", "split": "all"}, "fake": {"images": 10000}, "extractor": {"name": "inception"}}
    assert protocol_label(report_protocol(old)) == "all splits, 10,000 images, inception"
    folder = {**old, "real": {"kind": "folder"}, "fake": {"images": 300}}
    assert protocol_label(report_protocol(folder)) == "reference folder, 300 images, inception"


def test_report_names_the_protocol_of_the_fid_logged_in_training():
    from artforge.reporting import _training_protocol

    options = {"train": {"eval_every": 2000, "eval_n": 5000, "split": "train", "eval_extractor": "inception"}}
    assert _training_protocol([], options) == "train split, 5,000 images, inception"
    assert _training_protocol([], {"train": {"eval_every": 0, "eval_n": 5000}}) is None  # nothing was logged
    logged = [{"event": "eval", "step": 10, "protocol": {"split": "all", "generated": 800, "extractor": "encoder"}}]
    assert _training_protocol(logged, options) == "all splits, 800 images, encoder"


def test_every_source_follows_the_source_protocol(trained_run, blob_dataset, tmp_path):
    from artforge.data.archive import open_dataset
    from artforge.metrics.sources import DatasetSource, FolderSource, GeneratorSource, Source
    from artforge.sampling import load
    from PIL import Image
    for i in range(3):
        Image.new("RGB", (32, 32), (i * 60, 0, 0)).save(tmp_path / f"{i}.png")
    sources = [DatasetSource(open_dataset(blob_dataset)), FolderSource(tmp_path, resolution=32),
               GeneratorSource(load(trained_run, device="cpu"), n=3)]
    for source in sources:
        assert isinstance(source, Source)  # can fail: a runtime-checkable Protocol; a missing member fails it
        images, _ = next(iter(source.batches(2)))
        assert images.dtype == torch.uint8 and images.shape[1:] == (source.channels, source.resolution, source.resolution)
        assert torch.equal(source.images([0, 1]), images)  # the same items, by position
