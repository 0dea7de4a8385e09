"""Monitoring: the inference log and, later, profiles, drift, quality and alerts."""
