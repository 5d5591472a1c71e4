"""From which epoch a run may select its checkpoint: one rule for every loss of a study.

``warp`` and ``topo`` add their topological term late (``activate_at`` of ``max_epochs``), and a
checkpoint of theirs is chosen only among epochs with the term on, so they train at least until
that epoch plus the patience. A loss without a late term used to select from epoch 0 and stop near
epoch 20: a difference between the two then mixed the topological term with longer training, a
lower learning rate at the selected epoch and late-only selection. Under the ``late_term`` rule
every loss selects (and counts its patience) from the epoch the study's late terms come on, so the
losses differ in the loss alone; ``own`` keeps each loss's own start (0 without a late term), for a
study without warp and topo, where it costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from torch import nn

#: ``late_term``: every loss from the study's late-term epoch; ``own``: each loss its own.
SelectionRule = Literal["late_term", "own"]


def late_term_epoch(loss_fn: nn.Module, max_epochs: int) -> int | None:
    """The first epoch at which ``loss_fn``'s late term is on; ``None`` when it has none."""
    if not getattr(loss_fn, "has_late_term", False):
        return None
    return loss_fn.first_active_epoch(max_epochs)


def selection_start_epoch(
    rule: SelectionRule, loss_fn: nn.Module, study_losses: Iterable[nn.Module], max_epochs: int
) -> int:
    """The first epoch whose checkpoint ``loss_fn``'s run may select.

    A late term that never comes on within ``max_epochs`` gates nothing (its loss selects among all
    epochs, so the others do too).

    Args:
        rule: ``late_term`` or ``own`` (see the module's docstring).
        loss_fn: the run's loss.
        study_losses: every loss of the study, built with the study's kwargs (their late terms'
            ``activate_at``); only read under ``late_term``.
        max_epochs: the run's epoch budget.

    Returns:
        The epoch, 0 when selection is not gated; never before ``loss_fn``'s own late term.
    """
    if rule not in ("late_term", "own"):
        raise ValueError(f"training.selection_start must be 'late_term' or 'own', got {rule!r}")
    losses = [loss_fn, *study_losses] if rule == "late_term" else [loss_fn]
    starts = [late_term_epoch(loss, max_epochs) for loss in losses]
    gating = [start for start in starts if start is not None and start < max_epochs]
    return max(gating, default=0)
