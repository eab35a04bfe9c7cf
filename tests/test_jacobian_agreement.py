"""benchmarks/jacobian_agreement.py: its exact reference norm and the seeds it counts as left out."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from jacobian_agreement import dropped, exact_jacobian_norms, seed_list  # noqa: E402


class ScaledLinear(torch.nn.Module):
    """G(z, c) = (1 + c) * A z as a (3, 2, 2) image: its Jacobian is (1 + c) A, whatever z is."""

    def __init__(self, A: torch.Tensor):
        super().__init__()
        self.A = A

    def forward(self, z, c=None):
        x = z @ self.A.T
        if c is not None:
            x = x * (1 + c[:, None].float())
        return x.view(len(z), 3, 2, 2)


def test_exact_norm_of_a_linear_generator_is_the_frobenius_norm_of_its_matrix():
    A = torch.randn(12, 5, generator=torch.Generator().manual_seed(0))
    z = torch.randn(4, 5)
    frobenius = float(A.double().norm())
    assert exact_jacobian_norms(ScaledLinear(A), z) == pytest.approx([frobenius] * 4, rel=1e-6)
    labels = torch.tensor([0, 1, 2, 0])  # the label scales the map, so the norm by 1, 2, 3, 1
    assert exact_jacobian_norms(ScaledLinear(A), z, labels) == pytest.approx(
        [frobenius, 2 * frobenius, 3 * frobenius, frobenius], rel=1e-6)


def test_exact_norm_of_a_nonlinear_generator_matches_autograd_jacobian():
    G = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4))
    z = torch.randn(2, 3)
    wrapped = lambda v, c=None: G(v)  # noqa: E731
    reference = [float(torch.autograd.functional.jacobian(G, z[i]).norm()) for i in range(2)]
    assert exact_jacobian_norms(wrapped, z) == pytest.approx(reference, rel=1e-5)


def test_dropped_is_the_largest_share_and_seed_list_reads_ranges():
    norms = np.array([0.5, 3.0, 1.0, 2.0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7])
    assert dropped(norms, 0.2) == {1, 3}
    assert dropped(norms, 0.0) == set()
    assert seed_list("0-3,7,9-10") == [0, 1, 2, 3, 7, 9, 10]
