"""TopoSculpt on a planted gap: the refined mask's Betti-0 error is not worse than the raw one's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from minivess_kedro.inference import SlidingWindowConfig, normalised_image, predict_logits
from minivess_kedro.metrics import evaluate_pair
from minivess_kedro.models import DynUNetConfig, build_dynunet
from minivess_kedro.postprocessing import TopoSculptSettings, toposculpt

WINDOW = SlidingWindowConfig(roi_size=(16, 16, 8))


@pytest.fixture(scope="module")
def gap_case():
    """One tube (the reference, b0 = 1) imaged with a dark gap in its middle, and a small network
    trained to threshold brightness, so that its raw prediction breaks the tube in two."""
    reference = np.zeros((24, 24, 8), dtype=np.uint8)
    reference[4:20, 10:14, 2:6] = 1
    image = np.where(reference, 1000.0, 100.0).astype(np.float32)
    image[11:13, 10:14, 2:6] = 100.0  # the planted gap: two voxels of dark lumen
    torch.manual_seed(0)
    model = build_dynunet(DynUNetConfig(filters=(4, 8, 16, 32)))
    target = torch.as_tensor(image > 500).long()[None, None]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x = normalised_image(image)
    for _ in range(60):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), target[:, 0])
        loss.backward()
        optimizer.step()
    model.eval()
    return model, image, reference


def test_raw_prediction_has_the_planted_gap(gap_case) -> None:
    model, image, reference = gap_case
    raw = predict_logits(model, normalised_image(image), WINDOW).argmax(1)[0].numpy()
    assert evaluate_pair(raw, reference, (1.0, 1.0, 1.0))["betti0_error"] == 1  # two pieces, one vessel


def test_toposculpt_does_not_worsen_the_betti_error(gap_case) -> None:
    model, image, reference = gap_case
    before = {k: v.clone() for k, v in model.state_dict().items()}
    raw = predict_logits(model, normalised_image(image), WINDOW).argmax(1)[0].numpy()

    refined = toposculpt(model, normalised_image(image), WINDOW, TopoSculptSettings(num_its=60, switch_step=30))

    raw_error = evaluate_pair(raw, reference, (1.0, 1.0, 1.0))["betti0_error"]
    refined_error = evaluate_pair(refined, reference, (1.0, 1.0, 1.0))["betti0_error"]
    assert refined_error <= raw_error
    assert refined.any()  # it did not "fix" the topology by erasing the vessel
    assert (refined != raw).any()  # the fine-tuned copy did predict something else
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name]), f"the trained model changed: {name}"


def test_empty_prediction_is_returned_unchanged() -> None:
    torch.manual_seed(0)
    model = build_dynunet(DynUNetConfig(filters=(4, 8, 16, 32))).eval()
    state = model.state_dict()
    bias = next(k for k in state if k.startswith("output_block") and k.endswith("bias"))
    state[bias.replace("bias", "weight")].zero_()
    state[bias] = torch.tensor([5.0, 0.0])  # always background
    model.load_state_dict(state)
    refined = toposculpt(model, torch.randn(1, 1, 16, 16, 8), WINDOW, TopoSculptSettings(num_its=5))
    assert not refined.any()
