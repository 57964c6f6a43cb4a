"""``{% body_map pain_regions avoided mode as bm %}``: what ``clinical/_body_map.html`` draws."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from mend.clinical import body_map
from mend.clinical.models import PainQuality

register = template.Library()
_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class DrawnView:
    id: str
    label: str
    left_label: str
    right_label: str
    shapes: list[body_map.Shape]

    @property
    def avoided(self) -> list[body_map.Shape]:
        return [s for s in self.shapes if s.avoid]


@dataclass(frozen=True, slots=True)
class BodyMap:
    uid: str
    mode: str
    views: list[DrawnView]
    pain: list[body_map.Mark]
    avoid: list[body_map.Mark]
    levels: tuple[int, ...] = body_map.PAIN_LEVELS

    @property
    def editable(self) -> bool:
        return self.mode == "edit"


@register.simple_tag
def body_map_data(
    pain_regions: Iterable[Any] | None = None, avoided: Iterable[Sequence[str | None]] | None = None, mode: str = "view"
) -> BodyMap:
    pain = body_map.pain_marks(pain_regions or (), dict(PainQuality.choices))
    avoid = body_map.avoid_marks(avoided or ())
    uid = f"bm{next(_ids)}"
    views = []
    for view, label in body_map.VIEWS:
        near = body_map.VIEWER_LEFT_SIDE[view]
        views.append(
            DrawnView(
                id=f"{uid}-{view}",
                label=label,
                left_label=body_map.SIDE_LABELS[near],
                right_label=body_map.SIDE_LABELS["left" if near == "right" else "right"],
                shapes=body_map.shapes(view, pain, avoid),
            )
        )
    return BodyMap(uid=uid, mode="edit" if mode == "edit" else "view", views=views, pain=pain, avoid=avoid)


@register.filter
def svg_attrs(shape: body_map.Shape) -> SafeString:
    """The geometry of a shape; the values are the module's own constants, escaped all the same."""
    attrs = list(shape.attrs)
    if shape.transform:
        attrs.append(("transform", shape.transform))
    return format_html_join(" ", '{}="{}"', attrs)
