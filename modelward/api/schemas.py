"""Request bodies of the control-plane API (answers are the entities' ``to_dict``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo in a field name is an error, not a no-op


class AliasBody(_Body):
    """Where an alias should point."""

    version: int = Field(ge=1, description="Version number the alias points at.")


class NewUser(_Body):
    """A user to create."""

    name: str = Field(description="User name, recorded as the actor of its changes.")
    role: str = Field(description="viewer, data_scientist, reviewer, operator or admin.")


class NewToken(_Body):
    """A token to create for a user."""

    expires_days: int | None = Field(
        default=None, description="Days until it expires; none: never."
    )
    description: str | None = Field(default=None, description="What the token is for.")
