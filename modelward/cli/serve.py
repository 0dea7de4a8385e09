"""``modelward serve``: the scoring server for one or more registered models."""

from __future__ import annotations

import typer

from modelward.cli.output import err_console
from modelward.errors import InvalidInputError
from modelward.scoring.config import ServeConfig


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("serve")(serve)


def serve(
    refs: list[str] = typer.Argument(
        ..., metavar="REF...", help="Models to serve: NAME, NAME/VERSION or NAME@ALIAS."
    ),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on (loopback by default)."
    ),
    port: int = typer.Option(8080, "--port", "-p", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="HTTP worker processes."),
    model_workers: int = typer.Option(
        1, "--model-workers", min=1, help="Worker processes per model (per HTTP worker)."
    ),
    max_batch_size: int = typer.Option(
        64, "--max-batch-size", min=1, help="Most rows merged into one predict call."
    ),
    max_batch_time_ms: float = typer.Option(
        0.0, "--max-batch-time-ms", min=0, help="Longest wait to fill a batch (0: never wait)."
    ),
    max_queue: int = typer.Option(
        1024, "--max-queue", min=1, help="Requests queued per model before 503 (backpressure)."
    ),
    request_timeout: float = typer.Option(
        30.0, "--request-timeout", min=0.01, help="Seconds before a hung model worker is killed."
    ),
    memory_limit_mb: int | None = typer.Option(
        None, "--memory-limit-mb", min=1, help="Restart a model worker whose RSS exceeds this."
    ),
    max_body_mb: float = typer.Option(
        16.0, "--max-body-mb", min=0.001, help="Largest request body accepted (413 above)."
    ),
    isolation: str = typer.Option(
        "process",
        "--isolation",
        help="'process' (default): each model in its own worker processes; 'none': inside the HTTP process (faster, no crash isolation).",
    ),
    no_inference_log: bool = typer.Option(
        False, "--no-inference-log", help="Do not record requests in the inference log."
    ),
) -> None:
    """Serve models over Open Inference Protocol v2 and MLflow /invocations until SIGTERM/SIGINT."""
    from modelward.scoring.server import serve as run

    if isolation not in ("process", "none"):
        raise InvalidInputError(f"unknown isolation {isolation!r}", hint="use 'process' or 'none'")

    config = ServeConfig(
        host=host,
        port=port,
        workers=workers,
        model_workers=model_workers,
        max_batch_size=max_batch_size,
        max_batch_time_ms=max_batch_time_ms,
        max_queue=max_queue,
        request_timeout=request_timeout,
        memory_limit_mb=memory_limit_mb,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        inference_log=not no_inference_log,
        isolation=isolation,
    )
    err_console.print(
        f"serving {', '.join(refs)} on http://{host}:{port} (Ctrl-C to stop)", highlight=False
    )
    run(refs, config)
