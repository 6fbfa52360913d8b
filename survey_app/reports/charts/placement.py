"""Where the names of funnel points go: beside their point, never over another name or
point, with a leader line that crosses nothing when one is needed.

A greedy search, most important point first (the caller's order): the spots
tried are a few directions around the point at growing distances; the nearest
free spot whose leader crosses no other leader, name or point is taken, else
the nearest free one. A name with no free spot at all is returned apart, for
the caller to list under the chart. Plain geometry in any unit (SVG units,
millimetres), ``y`` downwards as in SVG and fpdf2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .layout import Measure


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle, ``y`` downwards as in SVG and fpdf2."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box, gap: float = 0.0) -> bool:
        return not (
            self.x1 + gap <= other.x0
            or other.x1 + gap <= self.x0
            or self.y1 + gap <= other.y0
            or other.y1 + gap <= self.y0
        )

    def inside(self, other: Box) -> bool:
        return (
            self.x0 >= other.x0
            and self.y0 >= other.y0
            and self.x1 <= other.x1
            and self.y1 <= other.y1
        )


@dataclass(frozen=True)
class Placed:
    """A label put at ``box`` for the point at ``(x, y)``; ``leader`` when it is far
    enough from the point to need a line to it."""

    text: str
    box: Box
    x: float
    y: float
    leader: bool
    direction: tuple[int, int] = (1, 0)


#: Directions tried around a point, in order: right, left, then the diagonals, above, below.
_DIRECTIONS = ((1, 0), (-1, 0), (1, -1), (1, 1), (-1, -1), (-1, 1), (0, -1), (0, 1))

Segment = tuple[float, float, float, float]


def _crosses(a: Segment, b: Segment) -> bool:
    """Whether two segments cross (touching ends do not count)."""

    def side(px, py, qx, qy, rx, ry):
        return (qx - px) * (ry - py) - (qy - py) * (rx - px)

    d1 = side(a[0], a[1], a[2], a[3], b[0], b[1])
    d2 = side(a[0], a[1], a[2], a[3], b[2], b[3])
    d3 = side(b[0], b[1], b[2], b[3], a[0], a[1])
    d4 = side(b[0], b[1], b[2], b[3], a[2], a[3])
    return d1 * d2 < 0 and d3 * d4 < 0


def _through(segment: Segment, box: Box) -> bool:
    """Whether a segment passes through a box (crosses one of its edges)."""
    x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
    edges = ((x0, y0, x1, y0), (x1, y0, x1, y1), (x1, y1, x0, y1), (x0, y1, x0, y0))
    return any(_crosses(segment, edge) for edge in edges)


def leader(x: float, y: float, box: Box) -> Segment:
    """The line from a point to the nearest point of its label's box."""
    return x, y, min(max(x, box.x0), box.x1), min(max(y, box.y0), box.y1)


def place_labels(
    points: list[tuple[float, float, str]],
    width_of: Measure,
    height: float,
    area: Box,
    obstacles: list[Box],
    radius: float,
    steps: Iterable[float] = (0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10),
    directions: Iterable[tuple[int, int]] = _DIRECTIONS,
) -> tuple[list[Placed], list[str]]:
    """Labels for ``points`` (``x, y, text``, most important first), none overlapping
    another label or an obstacle (the markers), each inside ``area``.

    Around each point the spots tried are the ``directions`` at growing
    distances (``steps`` × the label's height beyond ``radius``). The nearest
    free spot is taken whose leader line (drawn when the label is not level
    with its point) crosses no other leader, label or marker, and which no
    earlier leader crosses; failing that, the nearest free spot. A label put
    beyond the first ring gets a leader line.

    :return: the labels placed, and the texts for which no spot was free (to
        be listed beside the chart instead).
    """
    placed: list[Placed] = []
    left_out: list[str] = []
    taken: list[Box] = []
    leaders: list[Segment] = []
    gap = height * 0.2
    directions = list(directions)
    for x, y, text in points:
        w = width_of(text)
        own = Box(x - radius, y - radius, x + radius, y + radius)
        clean = fallback = None
        for step in steps:
            d = radius + gap + step * height
            for dx, dy in directions:
                cx = x + dx * d + (dx * w / 2 if dx else 0)
                cy = y + dy * d + (dy * height / 2 if dy else 0)
                box = Box(cx - w / 2, cy - height / 2, cx + w / 2, cy + height / 2)
                if not box.inside(area):
                    continue
                if any(box.overlaps(b, gap / 2) for b in taken) or any(
                    box.overlaps(b) for b in obstacles
                ):
                    continue
                spot = Placed(text, box, x, y, step > 0, (dx, dy))
                fallback = fallback or spot
                line = leader(x, y, box)
                if not any(_through(segment, box) for segment in leaders) and not (
                    (step > 0 or not box.y0 <= y <= box.y1)
                    and (
                        any(_crosses(line, segment) for segment in leaders)
                        or any(_through(line, b) for b in taken)
                        or any(_through(line, b) for b in obstacles if b != own)
                    )
                ):
                    clean = spot
                    break
            if clean:
                break
        spot = clean or fallback
        if spot is None:
            left_out.append(text)
            continue
        placed.append(spot)
        taken.append(spot.box)
        if spot.leader or not spot.box.y0 <= y <= spot.box.y1:
            leaders.append(leader(x, y, spot.box))
    return placed, left_out
