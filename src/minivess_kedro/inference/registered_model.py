"""A registered model's version: its URI (``models:/<name>@<alias>``, ``models:/<name>/<version>``),
its identity, and the errors of loading one."""

from __future__ import annotations

import re
from collections.abc import Iterable
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


def checked_model_uri(value: str | None) -> str | None:
    """``value`` when empty or a valid URI (a parameter validator: pydantic reports ValueErrors).

    Raises:
        ValueError: the message of :func:`parse_model_uri`.
    """
    if value:
        try:
            parse_model_uri(value)
        except ModelReferenceError as err:
            raise ValueError(str(err)) from err
    return value


@dataclass(frozen=True)
class ModelIdentity:
    """The model version that segmented a volume, as its records and summary name it.

    Attributes:
        name: registered model name.
        version: the version number (as a string, MLflow's form).
        run_id: the MLflow run that logged the version.
        uri: the URI the user gave (an alias resolves to ``version`` at the time of the run).
        members: an ensemble's member runs (empty: one network).
    """

    name: str
    version: str
    run_id: str
    uri: str
    members: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        found = {"name": self.name, "version": self.version, "run_id": self.run_id, "uri": self.uri}
        return found | ({"members": list(self.members)} if self.members else {})


#: The artifact of a single network's weights; an ensemble's are ``member_0``, ``member_1``, ...
SINGLE_WEIGHTS = "state_dict"
MEMBER_PREFIX = "member_"
#: An ensemble version's description of its members and post-processing (JSON).
ENSEMBLE_RECORD = "ensemble"


def weights_artifacts(names: Iterable[str]) -> list[str]:
    """The weights artifacts of a registered version, in member order: ``["state_dict"]`` for one
    network, ``member_0 ... member_<n-1>`` for an ensemble; ``[]`` for neither."""
    names = set(names)
    if SINGLE_WEIGHTS in names:
        return [SINGLE_WEIGHTS]
    members = [n for n in names if n.startswith(MEMBER_PREFIX) and n.removeprefix(MEMBER_PREFIX).isdigit()]
    return sorted(members, key=lambda n: int(n.removeprefix(MEMBER_PREFIX)))


def member_artifact(index: int) -> str:
    """The artifact name of ensemble member ``index``."""
    return f"{MEMBER_PREFIX}{index}"
