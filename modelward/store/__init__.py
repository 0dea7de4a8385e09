"""Metadata store: one interface, SQLite or PostgreSQL chosen by URL."""

from modelward.store.base import MetadataStore
from modelward.store.sql import SqlStore, open_store

__all__ = ["MetadataStore", "SqlStore", "open_store"]
