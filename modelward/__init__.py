"""modelward: register, govern, deploy, monitor and improve models — the whole loop."""

from modelward.client import Client, load_model, register_model
from modelward.registry.loaded import LoadedModel
from modelward.remote import RemoteClient, connect
from modelward.runtimes.python import PythonModel
from modelward.signatures import ColumnSpec, Signature, infer_signature

__version__ = "0.1.0"
__all__ = [
    "Client",
    "ColumnSpec",
    "LoadedModel",
    "PythonModel",
    "RemoteClient",
    "Signature",
    "__version__",
    "connect",
    "infer_signature",
    "load_model",
    "register_model",
]
