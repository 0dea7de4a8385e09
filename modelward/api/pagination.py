"""Pages of a listing: ``limit`` and ``offset`` in, ``items`` and a ``next`` link out.

The store is asked for one item more than the page holds: that says whether a next page exists
without counting every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Query, Request

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class PageParams:
    """The page a client asked for."""

    limit: int
    offset: int

    @property
    def probe(self) -> int:
        """How many items to fetch: the page and one more."""
        return self.limit + 1


def page_params(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page."),
    offset: int = Query(0, ge=0, description="Items to skip."),
) -> PageParams:
    """The ``limit`` and ``offset`` query parameters (a dependency)."""
    return PageParams(limit, offset)


def page(items: Sequence[Any], params: PageParams, request: Request) -> dict[str, Any]:
    """One page of ``items`` (fetched with :attr:`PageParams.probe`), each turned into a dict.

    ``next`` is the path and query of the next page (relative, so it never trusts the Host
    header), or ``None`` on the last page.
    """
    more = len(items) > params.limit
    following = request.url.include_query_params(offset=params.offset + params.limit)
    return {
        "items": [item.to_dict() for item in items[: params.limit]],
        "limit": params.limit,
        "offset": params.offset,
        "next": f"{following.path}?{following.query}" if more else None,
    }


def page_of(items: Sequence[Any], params: PageParams, request: Request) -> dict[str, Any]:
    """One page of a list the store returns whole (short lists: reports, approvals, comments)."""
    return page(items[params.offset : params.offset + params.probe], params, request)
