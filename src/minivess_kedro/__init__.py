"""minivess_kedro: a loss-function study for 3D vessel segmentation on MiniVess."""

__version__ = "0.1.0"
