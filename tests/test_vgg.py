"""The VGG-19 perceptual loss loads torchvision-layout weights from a file (built here, never downloaded)."""

import pytest
import torch

from artforge.errors import CheckpointError, UsageError
from artforge.models.vgg import CONV5_4, PerceptualLoss, vgg19_features


def _torchvision_like_state(seed: int = 0) -> dict:
    torch.manual_seed(seed)
    features = vgg19_features(until=36)  # the whole features block, as torchvision saves it
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 4)  # the classifier's entries are ignored
    return state


def test_the_layout_is_torchvisions():
    features = vgg19_features()
    convs = [i for i, m in enumerate(features) if isinstance(m, torch.nn.Conv2d)]
    assert convs == [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34] and len(features) == CONV5_4 + 1


def test_perceptual_loss_loads_a_state_dict_and_compares_features(tmp_path):
    path = tmp_path / "vgg19.pth"
    state = _torchvision_like_state()
    torch.save(state, path)
    loss = PerceptualLoss.from_file(path)
    assert torch.equal(loss.features[34].weight, state["features.34.weight"])
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert loss(x, x).item() == 0
    y = (x + 0.3 * torch.randn_like(x)).requires_grad_(True)
    value = loss(y, x)
    value.backward()
    assert value.item() > 0 and y.grad is not None and all(p.grad is None for p in loss.parameters())  # can fail: 0 is the identical pair's value above
    gray = loss(x[:, :1], x[:, :1])  # grey images go in repeated to RGB
    assert gray.item() == 0


def test_bad_weight_files_are_one_line_errors(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        PerceptualLoss.from_file(tmp_path / "missing.pth")
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="not a readable weights file"):
        PerceptualLoss.from_file(tmp_path / "junk.pth")
    torch.save({"features.0.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(CheckpointError, match="not VGG-19's weights"):
        PerceptualLoss.from_file(tmp_path / "other.pth")
