"""Tools beside the product: an EDT-based oracle of the surface metrics (tests, benchmarks) and a
cross-check against an installed MetricsReloaded (``python -m minivess_kedro.tools.crosscheck``)."""
