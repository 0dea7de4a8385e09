"""Pure functions between HTTP bodies (Open Inference Protocol v2, MLflow) and named numpy columns."""

from modelward.scoring.codecs.mlflow import decode_invocations, encode_invocations
from modelward.scoring.codecs.oip import (
    decode_oip_infer,
    encode_oip_infer,
    error_body,
    oip_model_metadata,
    oip_server_metadata,
)
from modelward.scoring.codecs.types import Decoded

__all__ = [
    "Decoded",
    "decode_invocations",
    "decode_oip_infer",
    "encode_invocations",
    "encode_oip_infer",
    "error_body",
    "oip_model_metadata",
    "oip_server_metadata",
]
