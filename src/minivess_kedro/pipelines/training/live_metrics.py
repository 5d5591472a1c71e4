"""The training loop's per-epoch callback: the one MLflow call a node makes.

A catalog dataset is saved when its node returns, but a curve must reach MLflow while training
runs (a killed or diverging run still shows its epochs); so the loop hands every epoch's record
to this callback (``Trainer.fit(on_epoch_end=...)``).
"""

from __future__ import annotations

import mlflow


def log_epoch_metrics(epoch: int, record: dict[str, float]) -> None:
    """Logs one epoch's record (``train_loss``, ``val_dsc``, ..., ``lr``) at step ``epoch`` to the
    active run; does nothing without one (MLflow off, DDP ranks > 0)."""
    if mlflow.active_run() is not None:
        mlflow.log_metrics({key: float(value) for key, value in record.items() if key != "epoch"}, step=epoch)
