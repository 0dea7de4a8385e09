"""Offline scoring of files: streamed in chunks, written atomically."""
