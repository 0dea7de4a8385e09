"""Monitoring: alerts, monitor state, per-window profiles and the roll-up watermark.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelward.store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("monitor", sa.String(128), nullable=False),
        sa.Column("metric", sa.String(256), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("threshold", sa.String(64), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("acknowledged_by", sa.String(128), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(128), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
    )
    op.create_index("ix_alerts_model_monitor_status", "alerts", ["model", "monitor", "status"])
    op.create_index("ix_alerts_status", "alerts", ["status"])
    op.create_table(
        "monitor_state",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("monitor", sa.String(128), primary_key=True),
        sa.Column("last_run_at", UTCDateTime(), nullable=False),
        sa.Column("last_value", sa.Double(), nullable=True),
        sa.Column("last_status", sa.String(32), nullable=False),
        sa.Column("last_message", sa.Text(), nullable=True),
    )
    op.create_table(
        "profiles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "model", "version", "window_start", "window_end", "kind", name="uq_profiles_window"
        ),
    )
    op.create_table(
        "rollup_state",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("last_file", sa.Text(), nullable=True),
        sa.Column("recent_files", sa.JSON(), nullable=False),
        sa.Column("watermark", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rollup_state")
    op.drop_table("profiles")
    op.drop_table("monitor_state")
    op.drop_index("ix_alerts_status", table_name="alerts")
    op.drop_index("ix_alerts_model_monitor_status", table_name="alerts")
    op.drop_table("alerts")
