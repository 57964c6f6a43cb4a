"""The body chart behind pain maps and avoided regions: one outline shape per body region and side,
front and back, and what colour each shape gets.

Pure Python (no Django). Geometry is drawn for a 200 × 440 figure centred on x = 100; a lateral
region is drawn once on the viewer's left and mirrored for the other side. In the front view the
client faces the viewer, so the viewer's left is the client's right; in the back view it is the
client's left.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mend.knowledge import body_regions

FIGURE_WIDTH = 200
MIRROR = f"matrix(-1 0 0 1 {FIGURE_WIDTH} 0)"
VIEWS = (("front", "Front"), ("back", "Back"))
PAIN_LEVELS = tuple(range(11))
SIDE_LABELS = {"left": "Left", "right": "Right", "bilateral": "Both sides"}

# (tag, attributes, transform) per region; the same limbs on both views.
_Geometry = tuple[str, tuple[tuple[str, str], ...], str]


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> _Geometry:
    return ("ellipse", (("cx", f"{cx}"), ("cy", f"{cy}"), ("rx", f"{rx}"), ("ry", f"{ry}")), "")


def _rect(x: float, y: float, w: float, h: float, r: float, rotate: str = "") -> _Geometry:
    attrs = (("x", f"{x}"), ("y", f"{y}"), ("width", f"{w}"), ("height", f"{h}"), ("rx", f"{r}"))
    return ("rect", attrs, f"rotate({rotate})" if rotate else "")


def _path(d: str) -> _Geometry:
    return ("path", (("d", d),), "")


_TORSO_UPPER = "M80 76 L120 76 Q131 78 133 90 L132 138 Q100 145 68 138 L67 90 Q69 78 80 76 Z"
_LIMBS: dict[str, _Geometry] = {
    "shoulder": _path("M79 76 Q64 75 56 84 Q50 93 51 106 Q58 109 65 107 Q66 96 69 90 Q73 82 79 79 Z"),
    "upper_arm": _rect(48, 104, 16, 54, 8, "5 56 104"),
    "elbow": _ellipse(51.5, 164, 8.5, 8),
    "forearm": _rect(44, 171, 14, 50, 7, "4 51 171"),
    "wrist": _rect(41, 222, 13, 9, 4),
    "hand": _path("M41 232 L54 232 Q58 242 56 252 Q53 262 46 263 Q39 261 38 251 Q37 240 41 232 Z"),
    "thigh": _path("M69 224 L98 224 L96 296 Q88 304 78 300 Q70 262 69 224 Z"),
    "knee": _ellipse(86, 311, 11, 10),
    "lower_leg": _path("M76 322 L96 322 Q97 350 93 392 L80 392 Q74 356 76 322 Z"),
    "ankle": _rect(79, 394, 15, 9, 4),
}

GEOMETRY: dict[str, dict[str, _Geometry]] = {
    "front": {
        "chest": _path(_TORSO_UPPER),
        "abdomen": _path("M68 141 Q100 148 132 141 L134 188 Q132 196 124 198 L76 198 Q68 196 66 188 Z"),
        "hip": _path("M66 191 Q68 198 76 200 L98 200 L98 222 L69 222 Q64 210 66 191 Z"),
        **_LIMBS,
        "foot": _path("M78 405 L95 405 Q99 416 97 426 Q88 431 79 427 Q75 416 78 405 Z"),
        "neck": _path("M90 58 L110 58 Q111 70 114 77 L86 77 Q89 70 90 58 Z"),
        "head": _ellipse(100, 35, 21, 25),
        "face": _path("M87 34 Q100 29 113 34 Q115 50 108 57 Q100 62 92 57 Q85 50 87 34 Z"),
    },
    "back": {
        "upper_back": _path(_TORSO_UPPER),
        "lower_back": _path("M68 141 Q100 148 132 141 L133 176 Q100 183 67 176 Z"),
        "sacrum": _path("M90 180 Q100 183 110 180 L105 203 Q100 209 95 203 Z"),
        "gluteal": _path("M73 179 L89 181 L95 204 Q99 214 98 223 Q86 229 76 224 Q70 210 73 179 Z"),
        "hip": _path("M66 179 L71 179 Q69 202 74 222 L69 222 Q63 204 66 179 Z"),
        **_LIMBS,
        "foot": _path("M79 405 L94 405 Q97 414 95 424 Q87 428 80 424 Q76 414 79 405 Z"),
        "neck": _path("M90 58 L110 58 Q111 70 114 77 L86 77 Q89 70 90 58 Z"),
        "head": _ellipse(100, 35, 21, 25),
    },
}

# The side a shape drawn on the viewer's left stands for, per view.
VIEWER_LEFT_SIDE = {"front": "right", "back": "left"}


@dataclass(frozen=True, slots=True)
class Shape:
    view: str
    region: str
    side: str  # "" for a midline region
    tag: str
    attrs: tuple[tuple[str, str], ...]
    transform: str
    label: str
    intensity: int | None = None
    quality: str = ""
    avoid: bool = False

    @property
    def pain_class(self) -> str:
        return "" if self.intensity is None else f"bm-p{self.intensity}"

    @property
    def description(self) -> str:
        """What a screen reader hears for this shape."""
        parts = [self.label]
        if self.intensity is not None:
            parts.append(f"pain {self.intensity} of 10" + (f", {self.quality.lower()}" if self.quality else ""))
        if self.avoid:
            parts.append("avoid")
        return ": ".join(parts[:2]) + ("; " + parts[2] if len(parts) > 2 else "")


@dataclass(frozen=True, slots=True)
class Mark:
    """A pain rating or an avoided region, as a line of the text version of the map."""

    region: str
    side: str
    label: str
    intensity: int | None = None
    quality: str = ""


def region_label(region: str, side: str | None) -> str:
    known = body_regions().get(region)
    name = known.name if known else region.replace("_", " ").capitalize()
    if side in ("left", "right"):
        return f"{SIDE_LABELS[side]} {name[0].lower()}{name[1:]}"
    if side == "bilateral":
        return f"{name}, both sides"
    return name


def covers(region: str, side: str | None, shape_region: str, shape_side: str) -> bool:
    """Whether a mark on (region, side) covers a shape: no side and "both sides" cover both."""
    if region != shape_region:
        return False
    return not side or side == "bilateral" or not shape_side or side == shape_side


def _intensity(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return max(0, min(10, number))


def pain_marks(pain_regions: Iterable[Any], quality_labels: dict[str, str] | None = None) -> list[Mark]:
    """Pain ratings (objects with region, side, intensity, quality) as marks; rows without a region drop."""
    labels = quality_labels or {}
    marks = []
    for p in pain_regions:
        region = getattr(p, "region", "") or ""
        if not region:
            continue
        side = getattr(p, "side", "") or ""
        quality = getattr(p, "quality", "") or ""
        marks.append(
            Mark(
                region,
                side,
                region_label(region, side),
                _intensity(getattr(p, "intensity", None)),
                labels.get(quality, quality),
            )
        )
    return marks


def avoid_marks(avoided: Iterable[Sequence[str | None]]) -> list[Mark]:
    return [Mark(region, side or "", region_label(region, side)) for region, side in avoided if region]


def shapes(view: str, pain: Sequence[Mark] = (), avoid: Sequence[Mark] = ()) -> list[Shape]:
    """Every shape of ``view`` in drawing order, each with the highest pain that covers it and
    whether an avoided region covers it."""
    regions = body_regions()
    result = []
    for region_id, (tag, attrs, transform) in GEOMETRY[view].items():
        region = regions[region_id]
        if region.lateral:
            near = VIEWER_LEFT_SIDE[view]
            far = "left" if near == "right" else "right"
            placed = [(near, transform), (far, f"{MIRROR} {transform}".strip())]
        else:
            placed = [("", transform)]
        for side, where in placed:
            ratings = [m for m in pain if m.intensity is not None and covers(m.region, m.side, region_id, side)]
            worst = max(ratings, key=lambda m: m.intensity or 0) if ratings else None
            result.append(
                Shape(
                    view=view,
                    region=region_id,
                    side=side,
                    tag=tag,
                    attrs=attrs,
                    transform=where,
                    label=region_label(region_id, side),
                    intensity=worst.intensity if worst else None,
                    quality=worst.quality if worst else "",
                    avoid=any(covers(m.region, m.side, region_id, side) for m in avoid),
                )
            )
    return result


def drawn_regions() -> set[str]:
    """Region ids with a shape in at least one view."""
    return {region for view in GEOMETRY.values() for region in view}
