"""The scoring engine: an ASGI server for registered models (OIP v2 and MLflow protocols)."""
