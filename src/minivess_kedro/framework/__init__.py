"""The Kedro glue: the project's hooks, the MLflow store, run provenance and launch helpers.

Domain packages do not import Kedro or MLflow; what ties them to a ``kedro run`` lives here.
"""
