"""The registry: names, kwargs validation, defaults, training progress, no framework imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
import yaml

import minivess_kedro.losses
from minivess_kedro.losses import LOSS_NAMES, build_loss, loss_defaults
from minivess_kedro.losses.compound import CompoundLoss
from minivess_kedro.losses.monai_adapter import MonaiLoss

ISSUE_NAMES = [
    "dice_ce",
    "cldice",
    "dice_cldice",
    "vessel_compound",
    "topo_compound",
    "betti",
    "class_balanced",
    "focal",
    "cbdice",
    "centerline_ce",
    "warp",
    "topo",
    "cbdice_cldice",
]


def test_loss_names_are_the_13_of_the_study():
    assert list(LOSS_NAMES) == ISSUE_NAMES


def test_unknown_name_lists_the_valid_names():
    with pytest.raises(ValueError, match="unknown loss 'dice'") as err:
        build_loss("dice")
    for name in LOSS_NAMES:
        assert name in str(err.value)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_unknown_kwarg_lists_the_valid_kwargs(name):
    with pytest.raises(ValueError, match="unknown kwargs") as err:
        build_loss(name, not_a_kwarg=1)
    for kwarg in loss_defaults(name):
        assert kwarg in str(err.value)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("cldice", {"iter_": -1}),
        ("cbdice", {"smooth": 0.0}),
        ("warp", {"activate_at": 1.5}),
        ("topo", {"weight": [1.0]}),
        ("class_balanced", {"eps": -1e-5}),
        ("dice_ce", {"lambda_dice": -1.0}),
        ("vessel_compound", {"cldice": 3}),
        ("vessel_compound", {"cldice": {"iter_": -2}}),
        ("vessel_compound", {"lambda_cldice": "half"}),
    ],
)
def test_bad_values_raise_value_error_naming_the_valid_kwargs(name, kwargs):
    with pytest.raises(ValueError, match="valid kwargs"):
        build_loss(name, **kwargs)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_defaults_build_the_default_loss_and_dump_to_yaml(name):
    defaults = loss_defaults(name)
    logits = torch.randn(1, 2, 8, 8, 6, generator=torch.Generator().manual_seed(0))
    target = (torch.rand(1, 1, 8, 8, 6, generator=torch.Generator().manual_seed(1)) > 0.7).long()
    explicit = build_loss(name, **defaults)(logits, target)
    implicit = build_loss(name)(logits, target)
    assert torch.equal(explicit, implicit)
    assert yaml.safe_load(yaml.safe_dump(defaults)) == defaults


def test_defaults_state_the_spec_values():
    assert loss_defaults("cbdice") == {
        "lambda_ce": 2.0,
        "lambda_dice": 1.0,
        "lambda_cbdice": 1.0,
        "iter_": 10,
        "smooth": 1e-3,
        "smooth_nr": 1e-5,
        "smooth_dr": 1e-5,
    }
    assert loss_defaults("topo")["weight"] == [0.05, 0.95]
    assert loss_defaults("topo")["topo_size"] == 50
    assert loss_defaults("warp")["activate_at"] == 0.7
    assert loss_defaults("cldice")["include_background"] is False
    assert loss_defaults("topo_compound")["lambda_betti"] == 0.2
    assert loss_defaults("cbdice_cldice")["vessel_compound"]["lambda_cldice"] == 0.5


def test_compound_weights_and_nested_kwargs_are_overridable():
    loss = build_loss("vessel_compound", lambda_cldice=0.25, cldice={"iter_": 5})
    assert isinstance(loss, CompoundLoss)
    assert loss.weights == {"dice_ce": 0.5, "cldice": 0.25}
    assert loss.terms["cldice"].loss.iter == 5


def test_compound_is_the_weighted_sum_of_its_terms():
    logits = torch.randn(2, 2, 8, 8, 6, generator=torch.Generator().manual_seed(0))
    target = (torch.rand(2, 1, 8, 8, 6, generator=torch.Generator().manual_seed(1)) > 0.6).long()
    terms = {name: build_loss(name)(logits, target) for name in ("dice_ce", "cldice", "betti")}
    topo_compound = build_loss("topo_compound")(logits, target)
    want = 0.4 * terms["dice_ce"] + 0.4 * terms["cldice"] + 0.2 * terms["betti"]
    assert torch.allclose(topo_compound, want)
    cbdice_cldice = build_loss("cbdice_cldice")(logits, target)
    vessel = 0.5 * terms["dice_ce"] + 0.5 * terms["cldice"]
    want = 0.5 * build_loss("cbdice")(logits, target) + 0.5 * vessel
    assert torch.allclose(cbdice_cldice, want)


@pytest.mark.parametrize("name", ["warp", "topo"])
def test_late_term_switches_on_at_activate_at(name):
    logits = torch.randn(1, 2, 12, 12, 8, generator=torch.Generator().manual_seed(0))
    target = torch.zeros(1, 1, 12, 12, 8, dtype=torch.long)
    target[0, 0, 2:10, 5:8, 2:5] = 1
    loss = build_loss(name)
    base = loss(logits, target)
    loss.set_training_progress(0.69)
    assert torch.equal(loss(logits, target), base)
    loss.set_training_progress(0.7)
    assert loss(logits, target) > base
    with pytest.raises(ValueError, match="progress"):
        loss.set_training_progress(1.2)


@pytest.mark.parametrize("name", sorted(set(LOSS_NAMES) - {"warp", "topo"}))
def test_only_warp_and_topo_take_training_progress(name):
    assert not hasattr(build_loss(name), "set_training_progress")


@pytest.mark.parametrize(
    ("logits_shape", "target_shape"),
    [((2, 3, 8, 8, 4), (2, 1, 8, 8, 4)), ((2, 2, 8, 8, 4), (2, 8, 8, 4)), ((2, 2, 8, 8), (2, 1, 8, 8))],
)
def test_wrong_shapes_raise_value_error(logits_shape, target_shape):
    loss = build_loss("dice_ce")
    with pytest.raises(ValueError, match="shape"):
        loss(torch.zeros(logits_shape), torch.zeros(target_shape, dtype=torch.long))


def test_monai_losses_are_called_by_keyword():
    class Recorder(torch.nn.Module):
        def forward(self, *args, **kwargs):
            self.args, self.kwargs = args, kwargs
            return torch.zeros(())

    recorder = Recorder()
    logits = torch.randn(1, 2, 4, 4, 4, dtype=torch.float16)
    target = torch.zeros(1, 1, 4, 4, 4, dtype=torch.long)
    MonaiLoss(recorder)(logits, target)
    assert recorder.args == ()
    assert set(recorder.kwargs) == {"input", "target"}
    assert recorder.kwargs["input"].dtype == torch.float32
    assert torch.equal(recorder.kwargs["input"], logits.float())
    assert recorder.kwargs["target"] is target


def test_losses_import_neither_kedro_nor_mlflow():
    # A static check of our own imports: MONAI itself pulls in mlflow (monai.handlers) when it
    # is installed, which is MONAI's business, not a dependency of this package.
    package = Path(minivess_kedro.losses.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            assert not {"kedro", "mlflow"} & set(roots), f"{source.name} imports {roots}"
