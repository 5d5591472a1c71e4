"""Topology building blocks shared by the losses and post-processing: soft skeletons, simple
points and critical voxels (warping), 0-dimensional persistence (plain PyTorch, NumPy and gudhi)."""
