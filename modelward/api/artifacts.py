"""A version's artifact over HTTP: the deterministic tar a remote client downloads to load it.

The blob is verified against its digest before the first byte is sent (a blob changed at rest
answers 500 ``ARTIFACT_INTEGRITY``, never altered bytes); the digest also travels in
``X-Modelward-Digest`` so that any client can check what it received.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from modelward.api.context import ApiContext, context
from modelward.api.security import requires
from modelward.artifacts.base import CHUNK
from modelward.governance.users import Caller

router = APIRouter(tags=["versions"])
DIGEST_HEADER = "X-Modelward-Digest"
TAR_TYPE = "application/x-tar"


@router.get(
    "/models/{name}/versions/{version}/artifact",
    response_class=StreamingResponse,
    responses={200: {"content": {TAR_TYPE: {}}, "description": "the version's artifact (tar)"}},
)
def download_artifact(
    name: str,
    version: int,
    caller: Caller = requires("models:read"),
    ctx: ApiContext = Depends(context),
) -> StreamingResponse:
    """The version's artifact blob, streamed after it was verified against its digest."""
    found = ctx.store.get_version(name, version)
    stack = ExitStack()
    try:
        blob = stack.enter_context(ctx.artifacts.open_verified(found.digest))
    except BaseException:
        stack.close()
        raise
    headers = {DIGEST_HEADER: found.digest, "Content-Length": str(found.size_bytes)}
    return StreamingResponse(
        _chunks(blob, stack),
        media_type=TAR_TYPE,
        headers=headers,
        background=BackgroundTask(stack.close),
    )


def _chunks(blob: IO[bytes], stack: ExitStack) -> Iterator[bytes]:
    """The blob in chunks; the verified copy is released however the stream ends."""
    with stack:
        while chunk := blob.read(CHUNK):
            yield chunk
