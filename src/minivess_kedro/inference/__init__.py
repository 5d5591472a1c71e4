"""Whole-volume prediction with MONAI's sliding-window inference."""

from minivess_kedro.inference.segment import normalised_image, segment_volume
from minivess_kedro.inference.sliding_window import SlidingWindowConfig, predict_logits

__all__ = ["SlidingWindowConfig", "normalised_image", "predict_logits", "segment_volume"]
