"""Overlap and gap analysis of UNIQUE decision tables.

The input domain is split one input at a time into elementary segments cut at the rules'
boundary points (the points themselves and the open stretches between them). Each segment
carries the set of rules that cover it; segments with the same set are merged, and the next
input is split within them. A region no rule covers is a gap; a region two or more rules cover
is an overlap. The result for a (level, rule set) pair does not depend on how it was reached,
so it is computed once.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from modelward.errors import InvalidModelError
from modelward.runtimes.rules.conditions import (
    DISCRETE_TYPES,
    ORDERED_TYPES,
    Condition,
    Interval,
    RangeCondition,
    SetCondition,
    format_value,
    point,
)
from modelward.runtimes.rules.problems import SHOW_PROBLEMS, problem_list
from modelward.signatures import ColumnSpec

if TYPE_CHECKING:
    from modelward.runtimes.rules.table import DecisionTable

_OTHER = object()  # "any value no rule names", for string inputs without declared categories
Piece = tuple[str, tuple[int, ...]]  # description of a region of one input, rules covering it
#: Distinct (input, rule set) regions the check visits before it gives up on a table.
MAX_REGIONS = 200_000
#: A UNIQUE table with this many overlapping rule pairs is reported without searching further.
STOP_AFTER = 100


@dataclass
class Findings:
    """Gaps and overlaps below one node; regions are described one input per entry."""

    gaps: int = 0
    gap_examples: list[tuple[str, ...]] = field(default_factory=list)
    #: pair of rule numbers → (how many regions they share, the first such region)
    overlaps: dict[tuple[int, ...], tuple[int, tuple[str, ...]]] = field(default_factory=dict)
    #: True when the search ended early, so the counts are lower bounds.
    stopped: bool = False

    def add(self, prefix: str, child: Findings) -> None:
        """Fold in a child's findings, prefixing its regions with this input's description."""
        self.gaps += child.gaps
        room = SHOW_PROBLEMS - len(self.gap_examples)
        self.gap_examples.extend((prefix, *ex) for ex in child.gap_examples[: max(room, 0)])
        for rules, (count, example) in child.overlaps.items():
            if rules in self.overlaps:
                self.overlaps[rules] = (self.overlaps[rules][0] + count, self.overlaps[rules][1])
            else:
                self.overlaps[rules] = (count, (prefix, *example))


def analyse(table: DecisionTable, *, gaps: bool = True, stop_after: int | None = None) -> Findings:
    """The overlaps (and, when ``gaps``, gaps) of ``table``'s rules over its input domain.

    With ``stop_after``, the search ends once that many overlapping pairs are found and
    ``stopped`` is set: an invalid table is reported quickly however many of its rules overlap.
    """
    conditions = [[rule.conditions.get(spec.name) for rule in table.rules] for spec in table.inputs]
    numbers = [rule.number for rule in table.rules]
    memo: dict[tuple[int, tuple[int, ...]], Findings] = {}
    overlapping: set[tuple[int, ...]] = set()

    def walk(level: int, rules: tuple[int, ...]) -> Findings:
        key = (level, rules)
        if key in memo:
            return memo[key]
        if len(memo) >= MAX_REGIONS:
            raise _too_complex(table)
        found = Findings()
        if not rules:
            found.gaps = 1
            found.gap_examples.append(tuple(f"{s.name} any" for s in table.inputs[level:]))
        elif level == len(table.inputs):
            for pair in itertools.combinations((numbers[r] for r in rules), 2):
                found.overlaps[pair] = (1, ())
                overlapping.add(pair)
        elif len(rules) > 1 or gaps:  # one rule alone can leave gaps, but cannot overlap
            spec = table.inputs[level]
            cells = [(r, conditions[level][r]) for r in rules]
            for text, covering in split(spec, cells):
                if not covering and not gaps:
                    continue
                if stop_after is not None and len(overlapping) >= stop_after:
                    found.stopped = True
                    break
                child = walk(level + 1, covering)
                found.add(text, child)
                found.stopped |= child.stopped
        memo[key] = found
        return found

    return walk(0, tuple(range(len(table.rules))))


def _too_complex(table: DecisionTable) -> InvalidModelError:
    return InvalidModelError(
        f"{table.label} is too large to check for overlaps and gaps: its rules cut the inputs "
        f"into more than {MAX_REGIONS} regions",
        hint="use hit_policy FIRST or PRIORITY, or split the table into smaller ones",
    )


def check_unique(table: DecisionTable) -> None:
    """Raise one :class:`InvalidModelError` listing the overlaps (and, without a default, gaps)."""
    found = analyse(table, gaps=table.default is None, stop_after=STOP_AFTER)
    problems = [
        f"rules {first} and {second} both match where {', '.join(example)}"
        + (f" (and in {count - 1} more region{'s' if count > 2 else ''})" if count > 1 else "")
        for (first, second), (count, example) in found.overlaps.items()
    ]
    gaps = found.gaps if table.default is None else 0
    if not problems and not gaps:
        return
    parts = []
    at_least = "at least " if found.stopped else ""
    if problems:
        parts.append(f"{at_least}{len(problems)} overlap{'s' if len(problems) != 1 else ''}")
    if gaps:
        parts.append(f"{at_least}{gaps} gap{'s' if gaps != 1 else ''}")
    lines = problem_list(problems)
    if gaps:
        gap_lines = [f"no rule matches {', '.join(ex)}" for ex in found.gap_examples]
        lines += problem_list(gap_lines, total=gaps)
    fixes = []
    if problems:
        fixes.append("narrow the overlapping conditions, or use hit_policy FIRST or PRIORITY")
    if gaps:
        fixes.append("add rules for the uncovered regions, or a 'default' output")
    raise InvalidModelError(
        f"{table.label} uses hit policy UNIQUE, so its rules must not overlap"
        f"{'' if table.default is not None else ' or leave gaps'}, but it has "
        f"{' and '.join(parts)}:{lines}",
        hint="; ".join(fixes),
    )


def split(spec: ColumnSpec, cells: list[tuple[int, Condition | None]]) -> list[Piece]:
    """The regions of input ``spec`` inside which the same rules (of ``cells``) match."""
    if all(cell is None for _, cell in cells):
        return [(f"{spec.name} any", tuple(r for r, _ in cells))]
    if spec.type in ORDERED_TYPES:
        return _split_ordered(spec, cells)
    return _split_values(spec, cells)


def _split_ordered(spec: ColumnSpec, cells: list[tuple[int, Condition | None]]) -> list[Piece]:
    lo = -math.inf if spec.minimum is None else spec.minimum
    hi = math.inf if spec.maximum is None else spec.maximum
    ranges = [(r, c) for r, c in cells if c is None or isinstance(c, RangeCondition)]
    cuts = {b for _, c in ranges if c is not None for i in c.intervals for b in (i.lo, i.hi)}
    points = sorted(b for b in cuts | {lo, hi} if math.isfinite(b) and lo <= b <= hi)
    segments = []
    if lo == -math.inf:
        segments.append(Interval(-math.inf, points[0] if points else math.inf, False, False))
    for i, p in enumerate(points):
        segments.append(point(p))
        after = points[i + 1] if i + 1 < len(points) else (math.inf if hi == math.inf else None)
        if after is not None:
            segments.append(Interval(p, after, False, False))
    discrete = spec.type in DISCRETE_TYPES
    segments = [s for s in segments if not discrete or _holds_whole(s)]
    groups: dict[tuple[int, ...], list[Interval]] = {}
    previous: tuple[int, ...] | None = None
    for segment in segments:
        sample = _inside(segment)
        key = tuple(
            r for r, c in ranges if c is None or any(i.contains(sample) for i in c.intervals)
        )
        stretches = groups.setdefault(key, [])
        if key == previous:  # adjacent to the last stretch of the same rules: extend it
            last = stretches[-1]
            stretches[-1] = Interval(last.lo, segment.hi, last.lo_closed, segment.hi_closed)
        else:
            stretches.append(segment)
        previous = key
    if len(groups) == 1:
        return [(f"{spec.name} any", next(iter(groups)))]
    return [(_describe_ordered(spec, stretches), key) for key, stretches in groups.items()]


def _holds_whole(segment: Interval) -> bool:
    if segment.lo == segment.hi:
        return float(segment.lo).is_integer()
    if not (math.isfinite(segment.lo) and math.isfinite(segment.hi)):
        return True
    return math.floor(segment.lo) + 1 < segment.hi


def _inside(segment: Interval) -> Any:
    """A value strictly inside ``segment`` (exact, so no boundary is crossed by rounding)."""
    lo, hi = segment.lo, segment.hi
    if lo == hi:
        return lo
    if math.isinf(lo) and math.isinf(hi):
        return 0
    if math.isinf(lo):
        return Fraction(hi) - 1
    if math.isinf(hi):
        return Fraction(lo) + 1
    return (Fraction(lo) + Fraction(hi)) / 2


def _describe_ordered(spec: ColumnSpec, stretches: list[Interval]) -> str:
    texts = []
    for s in stretches:
        lo, hi, lo_closed, hi_closed = s.lo, s.hi, s.lo_closed, s.hi_closed
        if spec.type in ("integer", "long"):  # integers read better as closed ranges
            if math.isfinite(lo):
                lo, lo_closed = (math.ceil(lo) if lo_closed else math.floor(lo) + 1), True
            if math.isfinite(hi):
                hi, hi_closed = (math.floor(hi) if hi_closed else math.ceil(hi) - 1), True
        a, b = format_value(lo, spec.type), format_value(hi, spec.type)
        if lo == hi:
            texts.append(f"= {a}")
        elif math.isinf(lo):
            texts.append(f"{'<=' if hi_closed else '<'} {b}")
        elif math.isinf(hi):
            texts.append(f"{'>=' if lo_closed else '>'} {a}")
        else:
            texts.append(f"in {'[' if lo_closed else '('}{a}, {b}{']' if hi_closed else ')'}")
    return f"{spec.name} {' or '.join(texts)}"


def _split_values(spec: ColumnSpec, cells: list[tuple[int, Condition | None]]) -> list[Piece]:
    sets = [(r, c) for r, c in cells if isinstance(c, SetCondition) or c is None]
    if spec.type == "boolean":
        domain: list[Any] = [True, False]
    elif spec.categories is not None:
        domain = list(spec.categories)
    else:
        named = (v for _, c in sets if c is not None for v in sorted(c.values, key=str))
        domain = [*dict.fromkeys(named), _OTHER]
    groups: dict[tuple[int, ...], list[Any]] = {}
    for value in domain:
        key = tuple(r for r, c in sets if c is None or _covers(c, value))
        groups.setdefault(key, []).append(value)
    if len(groups) == 1:
        return [(f"{spec.name} any", next(iter(groups)))]
    return [(_describe_values(spec, values, domain), key) for key, values in groups.items()]


def _covers(condition: SetCondition, value: Any) -> bool:
    if value is _OTHER:
        return condition.negated
    return (value in condition.values) != condition.negated


def _describe_values(spec: ColumnSpec, values: list[Any], domain: list[Any]) -> str:
    if _OTHER in values:
        excluded = [format_value(v, spec.type) for v in domain if v not in values]
        return f"{spec.name} not in [{', '.join(excluded)}]"
    shown = [format_value(v, spec.type) for v in values]
    return (
        f"{spec.name} = {shown[0]}" if len(shown) == 1 else f"{spec.name} in [{', '.join(shown)}]"
    )
