"""Free TCP ports on 127.0.0.1 for servers that the tests start."""

from __future__ import annotations

import random
import socket
from pathlib import Path

LINUX_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _lowest_ephemeral_port() -> int:
    """Where the OS starts picking ports for ``bind(0)`` and outgoing connections (32768 on
    Linux; IANA's 49152 elsewhere)."""
    try:
        return int(LINUX_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49_152


def free_port() -> int:
    """A port that nothing listens on right now, below the OS's ephemeral range.

    ``bind(0)`` would hand out an ephemeral port, which the OS may give to any outgoing
    connection before the server binds it, or even to a client connecting to it (a TCP
    self-connection: a DDP process would then rendezvous with itself). kedro-viz also refuses
    ports of the dynamic range.

    Raises:
        OSError: no free port found.
    """
    top = min(_lowest_ephemeral_port(), 45_000)
    for port in random.Random().sample(range(20_000, top), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError(f"no free TCP port between 20000 and {top} on 127.0.0.1")
