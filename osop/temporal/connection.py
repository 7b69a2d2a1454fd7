"""Where the Temporal cluster is and how to reach it (address, namespace, TLS, API key).

Every ``--temporal`` command takes the same options; each falls back to an
``OSOP_TEMPORAL_*`` environment variable, so a worker fleet and the people who
start runs can share one configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from osop.errors import OsopError
from osop.temporal._sdk import require_sdk

if TYPE_CHECKING:
    from temporalio.client import Client

__all__ = [
    "DEFAULT_NAMESPACE",
    "DEFAULT_TASK_QUEUE",
    "ENV_ADDRESS",
    "TemporalTarget",
    "connect",
]

DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_QUEUE = "osop"
ENV_ADDRESS = "OSOP_TEMPORAL_ADDRESS"
ENV_NAMESPACE = "OSOP_TEMPORAL_NAMESPACE"
ENV_TASK_QUEUE = "OSOP_TEMPORAL_TASK_QUEUE"
ENV_API_KEY = "OSOP_TEMPORAL_API_KEY"
ENV_TLS_CERT = "OSOP_TEMPORAL_TLS_CERT"
ENV_TLS_KEY = "OSOP_TEMPORAL_TLS_KEY"
ENV_TLS_CA = "OSOP_TEMPORAL_TLS_CA"
#: Set once this process has made a Temporal client (the CLI then exits without
#: interpreter teardown: see osop.cli.main._leave_after_temporal).
CLIENT_CREATED = False


@dataclass(frozen=True, slots=True)
class TemporalTarget:
    """A Temporal frontend, the namespace and task queue OSOP uses there, and credentials."""

    address: str
    namespace: str = DEFAULT_NAMESPACE
    task_queue: str = DEFAULT_TASK_QUEUE
    #: TLS: on when asked, or implied by a client certificate, a CA or an API key.
    tls: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    tls_server_name: str | None = None
    #: An API key (Temporal Cloud and other hosted clusters); never printed.
    api_key: str | None = None

    @classmethod
    def from_options(
        cls,
        address: str | None,
        *,
        namespace: str | None = None,
        task_queue: str | None = None,
        tls: bool = False,
        tls_cert: Path | None = None,
        tls_key: Path | None = None,
        tls_ca: Path | None = None,
        tls_server_name: str | None = None,
        api_key: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> TemporalTarget:
        """Options as given, else the ``OSOP_TEMPORAL_*`` variables, else the defaults."""
        env = os.environ if environ is None else environ
        address = (address or env.get(ENV_ADDRESS) or "").strip()
        if not address:
            raise OsopError(f"no Temporal address: pass --temporal HOST:PORT or set {ENV_ADDRESS}")
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise OsopError(f"Temporal address {address!r} is not HOST:PORT")

        def path(value: Path | None, name: str) -> Path | None:
            found = value or (Path(env[name]) if env.get(name) else None)
            if found is not None and not found.is_file():
                raise OsopError(f"{name.lower().replace('_', '-')}: {found} is not a file")
            return found

        return cls(
            address=address,
            namespace=namespace or env.get(ENV_NAMESPACE) or DEFAULT_NAMESPACE,
            task_queue=task_queue or env.get(ENV_TASK_QUEUE) or DEFAULT_TASK_QUEUE,
            tls=tls,
            tls_cert=path(tls_cert, ENV_TLS_CERT),
            tls_key=path(tls_key, ENV_TLS_KEY),
            tls_ca=path(tls_ca, ENV_TLS_CA),
            tls_server_name=tls_server_name,
            api_key=api_key or env.get(ENV_API_KEY) or None,
        )

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls or self.tls_cert or self.tls_ca or self.api_key)

    def describe(self) -> str:
        """For health lines and errors: where, never the credentials."""
        extras = []
        if self.uses_tls:
            extras.append("tls")
        if self.api_key:
            extras.append("api key")
        more = f" ({', '.join(extras)})" if extras else ""
        return f"{self.address} namespace={self.namespace} task-queue={self.task_queue}{more}"


async def connect(target: TemporalTarget) -> Client:
    """A client for ``target``; a cluster that cannot be reached is a clear :class:`OsopError`."""
    require_sdk()
    from temporalio.client import Client
    from temporalio.service import RPCError, TLSConfig

    tls: bool | TLSConfig = False
    if target.uses_tls:
        if bool(target.tls_cert) != bool(target.tls_key):
            raise OsopError(
                "--tls-cert and --tls-key go together (a client certificate and its key)"
            )
        tls = TLSConfig(
            server_root_ca_cert=target.tls_ca.read_bytes() if target.tls_ca else None,
            client_cert=target.tls_cert.read_bytes() if target.tls_cert else None,
            client_private_key=target.tls_key.read_bytes() if target.tls_key else None,
            domain=target.tls_server_name,
        )
    global CLIENT_CREATED
    CLIENT_CREATED = True
    try:
        return await Client.connect(
            target.address,
            namespace=target.namespace,
            tls=tls,
            api_key=target.api_key,
        )
    except (RPCError, RuntimeError, OSError) as exc:
        raise OsopError(f"cannot reach Temporal at {target.describe()}: {exc}") from exc
