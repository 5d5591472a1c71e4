"""Network factory: MONAI DynUNet configured from parameters."""

from minivess_kedro.models.dynunet import DynUNetConfig, build_dynunet, check_patch_fits

__all__ = ["DynUNetConfig", "build_dynunet", "check_patch_fits"]
