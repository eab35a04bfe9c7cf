"""The dataset's encoder never judges an image it was trained on: its split, cache key and report."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import artforge.data.loader as loader
import artforge.metrics.encoder as encoder_module
import artforge.metrics.sources as sources
from artforge.options import EvaluateConfig
from artforge.metrics.encoder import EncoderSplit, SmallEncoder, random_network, split_indices
from artforge.metrics.evaluate import evaluate
from artforge.metrics.extractors import encoder_extractor, make_extractor

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ARTFORGE_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def quick_training(monkeypatch):
    """train_encoder replaced by an untrained network; records the images it was given."""
    seen = []

    def fake_train(images, **kw):
        seen.append(images.clone())
        return random_network(1)

    monkeypatch.setattr(encoder_module, "train_encoder", fake_train)
    return seen


def test_split_is_disjoint_complete_seeded_and_per_item():
    names = [f"{i // 1000:05d}/img{i:08d}.png" for i in range(2000)]
    train, held = split_indices(names)
    assert np.intersect1d(train, held).size == 0 and len(train) + len(held) == 2000
    assert 900 < len(train) < 1100  # half, within a binomial's 4.5 standard deviations (22 items)
    other_train, _ = split_indices(names, EncoderSplit(seed=1))
    assert not np.array_equal(train, other_train)
    # an item's part depends on its name alone: the first 500 names split the same on their own
    assert np.array_equal(split_indices(names[:500])[0], train[train < 500])
    quarter, _ = split_indices(names, EncoderSplit(fraction=0.25))
    assert 400 < len(quarter) < 600
    with pytest.raises(ValueError):
        EncoderSplit(fraction=1.0)


def test_the_encoder_never_sees_a_scored_image(trained_run, blob_dataset, quick_training, monkeypatch):
    """Every index decoded to train the encoder, and every index decoded as a reference image: disjoint."""
    trained_on, scored = [], []
    real_decode = loader.decode_all

    def spy(into):
        def decode(dataset, indices, *args, **kw):
            into.extend(int(i) for i in indices)
            return real_decode(dataset, indices, *args, **kw)
        return decode

    monkeypatch.setattr(loader, "decode_all", spy(trained_on))  # what encoder_for imports when it trains
    monkeypatch.setattr(sources, "decode_all", spy(scored))  # what the reference images are read with
    report = evaluate(EvaluateConfig(run=str(trained_run), real=str(blob_dataset), metrics=("fid", "kid"),
                                     extractor="encoder", n=16, kid_subset_size=8, kid_subsets=4, progress=False,
                                     device="cpu"))
    assert trained_on and scored
    assert not set(trained_on) & set(scored)
    assert sorted(set(trained_on) | set(scored)) == list(range(40))  # the blob dataset's 40 images, all used
    split = report["extractor"]["split"]
    assert (split["seed"], split["encoder_fraction"]) == (0, 0.5)
    assert split["encoder_images"] == len(set(trained_on)) and report["real"]["images"] == len(set(scored))
    assert report["real"]["part"] == "encoder's held-out part" == report["protocol"]["part"]
    assert len(quick_training) == 1 and len(quick_training[0]) == len(set(trained_on))


def test_cache_keys_differ_when_the_split_differs(blob_dataset, quick_training, tmp_path):
    from artforge.data.archive import open_dataset

    ds = open_dataset(blob_dataset)
    a = encoder_extractor(ds, torch.device("cpu"), progress=False)
    b = encoder_extractor(ds, torch.device("cpu"), progress=False, split=EncoderSplit(seed=3))
    c = encoder_extractor(ds, torch.device("cpu"), progress=False, split=EncoderSplit(fraction=0.3))
    assert len({a.identity, b.identity, c.identity}) == 3
    assert not np.array_equal(a.held_out, b.held_out)
    cached = sorted(p.name for p in (tmp_path / "cache" / "encoders").iterdir())
    assert len(cached) == 3 and all(name.endswith("-v2.safetensors") for name in cached)  # v1 files never reused
    again = encoder_extractor(ds, torch.device("cpu"), progress=False)
    assert again.identity == a.identity and len(quick_training) == 3  # the cached one, not trained again
    ref = sources.DatasetSource(ds)
    assert ref.restricted(a.held_out, "x").fingerprint != ref.fingerprint  # reference stats get a new key


def test_random_extractor_is_fixed_untrained_and_registered():
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    first = make_extractor("random", device=torch.device("cpu"))
    second = make_extractor("random", device=torch.device("cpu"))
    assert torch.equal(first(images)["features"], second(images)["features"])  # the same seed, the same net
    assert first.identity == "random:2:seed0" and first.held_out is None
    fresh = SmallEncoder()  # another initialisation gives other features: the seed is what fixes them
    assert not torch.allclose(fresh.features(images), first(images)["features"])
    from artforge.errors import UsageError
    with pytest.raises(UsageError, match="inception, encoder, random"):
        make_extractor("randm", device=torch.device("cpu"))


def test_the_protocol_names_the_held_out_part():
    from artforge.metrics.results import protocol_label

    p = {"split": "all", "generated": 5000, "extractor": "encoder", "part": "encoder's held-out part"}
    assert protocol_label(p) == "all splits (encoder's held-out part), 5,000 images, encoder"
    assert protocol_label({**p, "part": None}) == "all splits, 5,000 images, encoder"


def test_translation_kid_and_fid_use_only_the_encoders_held_out_items(monkeypatch):
    """A translation run's targets at dataset indices 10..17; the extractor never saw 11, 13, 14 and 16:
    only those items' targets and outputs reach it."""
    from types import SimpleNamespace

    import artforge.metrics.extractors as extractors
    from artforge.metrics.extractors import Extractor
    from artforge.metrics.translation import _distribution

    indices = np.arange(10, 18)
    targets = torch.arange(8, dtype=torch.uint8)[:, None, None, None].expand(8, 3, 4, 4).contiguous()
    outputs = {"model": targets.flip(0).contiguous()}
    seen = []

    def run(images):
        seen.append(images[:, 0, 0, 0].tolist())
        return {"features": torch.randn(len(images), 3, generator=torch.Generator().manual_seed(len(seen)))}

    fake = Extractor("encoder", "encoder:test", run, held_out=np.array([11, 13, 14, 16, 40]))
    monkeypatch.setattr(extractors, "make_extractor", lambda *a, **kw: fake)
    cfg = SimpleNamespace(extractor="encoder", inception_weights=None, progress=False, batch=64, kid_subset_size=100,
                          kid_subsets=2, seed=0)
    results = _distribution(["fid", "kid"], targets, outputs, cfg, None, torch.device("cpu"), False, indices=indices)
    assert seen == [[1, 3, 4, 6], [6, 4, 3, 1]]  # the targets' positions 1, 3, 4, 6; the outputs' (flipped) same items
    assert results["model"]["kid_fid_items"] == 4
