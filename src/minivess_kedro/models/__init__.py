"""Network factory: MONAI DynUNet configured from parameters."""

from minivess_kedro.models.dynunet import DynUNetConfig, build_dynunet, check_patch_fits
from minivess_kedro.models.ensemble import SoftmaxMeanEnsemble, build_ensemble, build_network

__all__ = [
    "DynUNetConfig",
    "SoftmaxMeanEnsemble",
    "build_dynunet",
    "build_ensemble",
    "build_network",
    "check_patch_fits",
]
