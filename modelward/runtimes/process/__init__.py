"""Models in any language, run as supervised child processes (the ``process`` flavor)."""

from modelward.runtimes.process.flavor import ProcessFlavor, ProcessRuntime

__all__ = ["ProcessFlavor", "ProcessRuntime"]
