"""Governance: lifecycle, policies, approvals, access control, audit, lineage, model cards, privacy."""
