"""Kedro pipelines: thin nodes (``nodes.py``) and their wiring (``pipeline.py``)."""
