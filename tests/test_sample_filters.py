"""Sample filters: the scores against hand math, and what a filter keeps."""

from __future__ import annotations

import pytest
import torch

from artforge.draws import filter_draws, filter_left_out
from artforge.sample_filters import d_scores, filter_samples, jacobian_norm_estimate, jacobian_scores

from conftest import gen


class Square(torch.nn.Module):  # G(z) = z * z elementwise: dG/dz = diag(2 z), so ||J||_F = 2 ||z||
    def forward(self, z):
        return z * z


class NearOrigin(torch.nn.Module):  # D: the closer to the origin, the more real
    def forward(self, x):
        return -x.norm(dim=1)


def test_jacobian_scores_are_minus_the_frobenius_norm():
    z = torch.randn(7, 3, generator=gen(0))
    assert torch.allclose(jacobian_scores(Square(), None, z), -2 * z.norm(dim=1), atol=1e-6)
    A = torch.randn(2, 3, generator=gen(1))  # a linear G has the same Jacobian A everywhere
    linear = torch.nn.Linear(3, 2, bias=False)
    linear.weight.data = A
    assert torch.allclose(jacobian_scores(linear, None, z), torch.full((7,), -A.norm().item()), atol=1e-6)


def test_d_scores_are_the_logits_of_the_samples():
    z = torch.randn(5, 2, generator=gen(2))
    assert torch.allclose(d_scores(Square(), NearOrigin(), z), -(z * z).norm(dim=1))


@pytest.mark.parametrize("by", ["d", "jacobian"])
def test_filter_keeps_the_best_scored_draws_in_draw_order(by):
    draws = torch.randn(100, 2, generator=gen(3))  # what the filter draws with the same generator
    kept = filter_samples(Square(), NearOrigin(), 2, 80, 0.2, gen(3), by=by)
    # ceil(80 / 0.8) = 100 drawn; kept: the 80 with the smallest |G(z)| (d) or |dG/dz| = 2 |z| (jacobian)
    badness = (draws ** 2).norm(dim=1) if by == "d" else draws.norm(dim=1)
    best = badness.argsort()[:80].sort().values
    assert torch.equal(kept, draws[best] ** 2)


class ScaledByClass(torch.nn.Module):  # G(z, c) = (c + 1) z: ||dG/dz||_F = (c + 1) sqrt(dim z)
    def forward(self, z, c):
        return z * (c[:, None] + 1)


class ClassBias(torch.nn.Module):  # D(x, c) = -|x| - c
    def forward(self, x, c):
        return -x.norm(dim=1) - c


def test_conditional_scores_follow_each_samples_label():
    z, c = torch.randn(6, 2, generator=gen(5)), torch.tensor([0, 1, 2, 0, 1, 2])
    assert torch.allclose(jacobian_scores(ScaledByClass(), None, z, c), -(c + 1) * 2 ** 0.5, atol=1e-6)
    assert torch.allclose(d_scores(ScaledByClass(), ClassBias(), z, c), -((c + 1)[:, None] * z).norm(dim=1) - c)


def test_filter_draws_labels_after_the_latents_and_keeps_them_paired():
    class SquareByClass(torch.nn.Module):  # G(z, c) = (c + 1) z * z: ||dG/dz||_F = 2 (c + 1) |z|
        def forward(self, z, c):
            return z * z * (c[:, None] + 1)

    labels = lambda n, g: torch.randint(0, 3, (n,), generator=g)  # noqa: E731
    kept = filter_samples(SquareByClass(), None, 2, 40, 0.2, gen(6), by="jacobian", labels=labels)
    g = gen(6)
    z = torch.randn(50, 2, generator=g)
    c = labels(50, g)
    keep = ((c + 1) * z.norm(dim=1)).argsort()[:40].sort().values
    assert torch.equal(kept, SquareByClass()(z[keep], c[keep]))


def test_filter_that_drops_nothing_keeps_every_draw():
    assert torch.equal(filter_samples(Square(), NearOrigin(), 2, 50, 0.0, gen(4), by="jacobian"),
                       torch.randn(50, 2, generator=gen(4)) ** 2)


def test_unknown_filter_is_refused():
    with pytest.raises(ValueError, match="unknown sample filter 'best'"):
        filter_samples(Square(), NearOrigin(), 2, 5, 0.1, gen(0), by="best")


def test_jacobian_norm_estimate_matches_the_exact_norm():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 12), torch.nn.Tanh(), torch.nn.Linear(12, 12))

    class ImageG(torch.nn.Module):  # (N, 5) -> (N, 3, 2, 2), with the (z, c) signature of artforge's G
        def forward(self, z, c=None):
            return net(z).view(-1, 3, 2, 2)

    z = torch.randn(4, 5, generator=gen(5))
    exact = -jacobian_scores(lambda v: ImageG()(v), None, z)
    directions = torch.randn(4000, 4, 3, 2, 2, generator=gen(6))  # (probes, N, *image shape)
    estimate = jacobian_norm_estimate(ImageG(), z, None, directions)
    assert torch.allclose(estimate, exact, rtol=0.05)


@pytest.mark.parametrize("n, drop, draws", [(2500, 0.05, 2632), (24, 0.1, 27), (80, 0.2, 100), (1, 0.9, 10),
                                            (6, 0.4, 10), (50, 0.0, 50)])
def test_filter_draws_enough_to_keep_n_and_no_more(n, drop, draws):
    assert filter_draws(n, drop) == draws  # 1 / (1 - 0.9) is 10.000000000000002 in floats: still 10 draws


@pytest.mark.parametrize("n, drop, left_out", [(16, 0.1, 1), (100, 0.29, 29), (100, 0.57, 57), (10, 0.3, 3),
                                               (64, 0.0, 0), (3, 0.5, 1)])
def test_filter_left_out_is_the_drop_share_rounded_down(n, drop, left_out):
    assert filter_left_out(n, drop) == left_out  # 100 * 0.29 is 28.999999999999996 in floats: still 29


def test_filter_options_mean_the_same_in_sample_evaluate_and_bench():
    from artforge.options.shared import SAMPLE_FILTER_DROP
    from artforge.options import EvaluateConfig, SampleConfig, ToyBenchConfig
    from artforge.errors import UsageError

    commands = (lambda **kw: SampleConfig(run="r", **kw), lambda **kw: EvaluateConfig(run="r", **kw), ToyBenchConfig)
    for make in commands:
        default = make()
        assert default.filter == () and default.filter_drop == SAMPLE_FILTER_DROP
        assert make(filter="jacobian").filter == make(filter=("jacobian",)).filter == ("jacobian",)
        assert make(filter="none").filter == ()
        assert make(filter="jacobian", filter_drop=0.0).filter_drop == 0.0
        for drop in (1.0, -0.1, float("nan"), True):
            with pytest.raises(UsageError, match=r"--filter-drop must be a fraction in \[0, 1\)"):
                make(filter="jacobian", filter_drop=drop)
        with pytest.raises(UsageError, match="--filter must be one of"):
            make(filter="best")
    assert ToyBenchConfig(filter="jacobian,d").filter == ("jacobian", "d")  # the benchmark scores several
    from artforge.options.catalog import SAMPLE_FILTERS
    from artforge.options.shared import IMAGE_FILTERS
    assert set(IMAGE_FILTERS) <= set(SAMPLE_FILTERS)  # can fail: the image commands offer a subset of the same names
