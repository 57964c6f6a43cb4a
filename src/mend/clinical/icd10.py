"""ICD-10-CM codes from the official code set, as shipped by ``simple-icd-10-cm``.

The package parses the CMS release on import (about a second), so it is imported on first use,
except in a server: ``mend.wsgi`` calls :func:`warm` as each worker starts.
Only billable codes (leaves of the classification, seventh characters included) are accepted
on a referral: a header such as M54.5 needs more characters before a claim takes it.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from mend.knowledge import conditions

_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    description: str


class InvalidCode(ValueError):
    pass


@functools.cache
def _cm() -> ModuleType:
    # simple-icd-10-cm reads its bundled data with importlib.resources (imported under the name
    # ``pkg_resources``, but it is the standard library's, not setuptools'; tests/test_packaging.py
    # imports it with setuptools uninstalled). Its read_text/open_text calls warn
    # DeprecationWarning on Python 3.11 and 3.12; 3.13 took the deprecation back, so nothing is
    # going away. Only those warnings are silenced: the package's own warnings about defects in
    # its data still show.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
        import simple_icd_10_cm as cm
    return cm


def warm() -> None:
    """Parse the code set and build the search rows now, so no request waits for them."""
    _billable()


def normalise(code: str) -> str:
    """Upper case, trimmed, with the dot after the third character (M5450 → M54.50)."""
    code = code.strip().upper().replace(" ", "")
    if len(code) > 3 and "." not in code:
        code = f"{code[:3]}.{code[3:]}"
    return code


def lookup(code: str) -> Code:
    """The billable code and its official description, or :class:`InvalidCode` saying why not."""
    code = normalise(code)
    cm: Any = _cm()
    if not _SHAPE.match(code) or not cm.is_valid_item(code):
        raise InvalidCode(f"{code or 'An empty code'} is not an ICD-10-CM code.")
    if not cm.is_leaf(code):
        children = ", ".join(cm.get_children(code)[:4])
        raise InvalidCode(f"{code} is a heading, not a billable code; choose a more specific one ({children} …).")
    return Code(code, cm.get_description(code))


@functools.cache
def _billable() -> tuple[tuple[str, str, str], ...]:
    cm: Any = _cm()
    rows = []
    for code in cm.get_all_codes(with_dots=True):
        if cm.is_leaf(code) and not cm.is_chapter_or_block(code):
            description = cm.get_description(code)
            rows.append((code, description, description.lower()))
    return tuple(rows)


def search(query: str, *, limit: int = 20) -> list[Code]:
    """Billable codes whose code starts with ``query`` or whose description holds every word of it."""
    query = query.strip()
    if not query:
        return []
    rows = _billable()
    as_code = normalise(query)
    if _SHAPE.match(as_code) or re.match(r"^[A-Za-z][0-9]", query):
        prefix = as_code.rstrip(".")
        hits = [Code(c, d) for c, d, _ in rows if c.startswith(prefix)]
        if hits:
            return hits[:limit]
    phrase = query.lower()
    words = phrase.split()
    # Everyday names first: "neck pain" finds cervicalgia through the conditions knowledge base.
    suggested = [c for cond in conditions().values() if phrase in cond.name.lower() for c in cond.icd10]
    described = {code: description for code, description, _ in rows if code in set(suggested)}
    preferred = [Code(code, described[code]) for code in dict.fromkeys(suggested) if code in described]
    found = [(code, description, lowered) for code, description, lowered in rows if all(w in lowered for w in words)]
    # The whole phrase at the start beats the phrase anywhere beats scattered words; then shorter first.
    found.sort(key=lambda r: (not r[2].startswith(phrase), phrase not in r[2], len(r[1]), r[0]))
    rest = [Code(code, description) for code, description, _ in found if code not in described]
    return (preferred + rest)[:limit]


@functools.cache
def group(code: str) -> Code | None:
    """The code's subcategory: its first four characters where the code goes that deep (M54.50 →
    M54.5 Low back pain, S76.011D → S76.0 Injury of muscle, fascia and tendon of hip), else its
    category (M79.7 → M79.7 Fibromyalgia is its own subcategory; G44 → G44). Three characters
    lump too much to compare care by: M54 Dorsalgia holds both neck and low back pain."""
    cm: Any = _cm()
    full = normalise(code)
    if not _SHAPE.match(full[:3]) or not cm.is_valid_item(full):
        return None
    plain = full.replace(".", "")
    if len(plain) >= 4:
        sub = f"{plain[:3]}.{plain[3]}"
        if cm.is_valid_item(sub):
            return Code(sub, cm.get_description(sub))
    return category(code)


@functools.cache
def category(code: str) -> Code | None:
    """The three-character category of a code (M54.50 → M54 Dorsalgia); None if it is not one."""
    head = normalise(code)[:3]
    cm: Any = _cm()
    if not _SHAPE.match(head) or not cm.is_valid_item(head):
        return None
    return Code(head, cm.get_description(head))
