"""A registered model's version: its URI (``models:/<name>@<alias>``, ``models:/<name>/<version>``),
its identity, and the errors of loading one."""

from __future__ import annotations

import re
from dataclasses import dataclass

_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))$")
EXAMPLE_URI = "models:/minivess-dynunet@best-cldice"


class ModelReferenceError(LookupError):
    """A model URI that is malformed or names no model version; the message names the URI and
    what the registry holds."""


class UnsafeWeightsError(ValueError):
    """A weights artifact that is not plain tensors (a pickle that would run code); refused unread."""


@dataclass(frozen=True)
class ModelReference:
    """A registered model's version, by alias or by number (exactly one of them is set).

    Attributes:
        uri: the URI as given.
        name: the registered model's name.
        alias: e.g. ``best-cldice``.
        version: e.g. ``3``.
    """

    uri: str
    name: str
    alias: str | None = None
    version: str | None = None


def parse_model_uri(uri: str) -> ModelReference:
    """``models:/minivess-dynunet@best-cldice`` or ``models:/minivess-dynunet/3`` -> its parts.

    Raises:
        ModelReferenceError: any other form, with the two valid ones.
    """
    match = _URI.match(uri.strip())
    if match is None:
        raise ModelReferenceError(
            f"{uri!r} is not a registered-model URI: use models:/<name>@<alias> (e.g. {EXAMPLE_URI}) "
            "or models:/<name>/<version> (e.g. models:/minivess-dynunet/3)"
        )
    return ModelReference(uri.strip(), match["name"], match["alias"], match["version"])


@dataclass(frozen=True)
class ModelIdentity:
    """The model version that segmented a volume, as its records and summary name it.

    Attributes:
        name: registered model name.
        version: the version number (as a string, MLflow's form).
        run_id: the MLflow run that logged the version.
        uri: the URI the user gave (an alias resolves to ``version`` at the time of the run).
    """

    name: str
    version: str
    run_id: str
    uri: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "run_id": self.run_id, "uri": self.uri}
