"""Comment threads on versions: reviewers and authors discuss a version next to its record."""

from __future__ import annotations

from modelward.errors import InvalidInputError
from modelward.refs import ModelRef, parse_ref
from modelward.store.base import MetadataStore
from modelward.store.governance_entities import Comment

MAX_LENGTH = 10_000


def add_comment(
    store: MetadataStore,
    ref: str | ModelRef,
    text: str,
    *,
    actor: str,
    reply_to: int | None = None,
) -> Comment:
    """Comment on the version ``ref`` points at; ``reply_to`` answers an earlier comment."""
    body = (text or "").strip()
    if not body:
        raise InvalidInputError("a comment needs some text")
    if len(body) > MAX_LENGTH:
        raise InvalidInputError(
            f"a comment holds at most {MAX_LENGTH:,} characters, not {len(body):,}",
            hint="attach long material elsewhere and link to it",
        )
    version = store.resolve(ref if isinstance(ref, ModelRef) else parse_ref(ref))
    return store.add_comment(version.name, version.version, body, actor=actor, parent_id=reply_to)


def list_comments(store: MetadataStore, ref: str | ModelRef) -> list[Comment]:
    """Comments on the version ``ref`` points at, oldest first."""
    version = store.resolve(ref if isinstance(ref, ModelRef) else parse_ref(ref))
    return store.comments(version.name, version.version)


def threaded(comments: list[Comment]) -> list[tuple[int, Comment]]:
    """Comments in thread order (each reply under its parent) with their depth."""
    children: dict[int | None, list[Comment]] = {}
    for c in comments:
        children.setdefault(c.parent_id, []).append(c)
    out: list[tuple[int, Comment]] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in children.get(parent, []):
            out.append((depth, c))
            walk(c.id, depth + 1)

    walk(None, 0)
    return out
