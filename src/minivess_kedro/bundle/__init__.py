"""A registered model version as a MONAI Bundle: configs a lab runs with ``python -m monai.bundle``."""

from minivess_kedro.bundle.export import BUNDLE_FILES, BundleSettings, bundle_files

__all__ = ["BUNDLE_FILES", "BundleSettings", "bundle_files"]
