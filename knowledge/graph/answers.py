"""Reply wording for product reasoning: the asked fact first, then what helps, in the reply language.

Search results ("the cheapest is ...", "nothing under $200 with IP67; the closest is ..."),
comparisons that name the deciding attribute ("the X is lighter: 52 g vs 61 g"), and yes/no
answers with their reason ("No: rated IPX4, which stands splashes, sweat and rain, not
swimming"). Values are rendered with units in the reply's language (``30 小时``, ``52 克``);
product names as the catalog writes them in that language.

Example:
    >>> values(product.attributes["weight"], "zh")     # doctest: +SKIP
    '52克'
"""

from __future__ import annotations

from .catalog import Attribute, Product
from .meaning import render_unit, unit_of, water_meaning

__all__ = ["value", "label", "rendered", "join", "name", "common_unit"]


def label(a: Attribute, lang: str) -> str:
    return (a.label_zh or a.label) if lang == "zh" else a.label


def common_unit(x: Attribute, y: Attribute) -> str | None:
    """A unit both values read well in when they are written in different ones (0.06 kg vs 80 g -> g)."""
    ux, uy = unit_of(x.unit), unit_of(y.unit)
    if x.unit == y.unit or not ux or not uy or ux[0] != uy[0] or isinstance(x.value, bool) or isinstance(y.value, bool):
        return None
    if not isinstance(x.value, (int, float)) or not isinstance(y.value, (int, float)):
        return None
    for unit, factor in ((x.unit, ux[1]), (y.unit, uy[1])):
        if min(x.value * ux[1], y.value * uy[1]) / factor >= 1:
            return unit
    return None


def value(a: Attribute, lang: str, unit: str | None = None) -> str:
    """The attribute's value with its unit as a reply in ``lang`` writes it (in ``unit`` when given)."""
    if lang == "zh" and a.value_zh and unit is None:
        return a.value_zh
    v = a.value
    if unit is not None and isinstance(v, (int, float)) and unit_of(unit) and unit_of(a.unit):
        v = round(v * unit_of(a.unit)[1] / unit_of(unit)[1], 3)
        a = Attribute(a.key, v, unit, a.label, a.label_zh, a.note)
    if isinstance(v, (int, float)) and not isinstance(v, bool) and a.unit:
        num = str(int(v)) if float(v).is_integer() else f"{v:g}"
        return f"{num}{render_unit(a.unit, lang)}"
    return a.render(lang)


def rendered(a: Attribute, lang: str, unit: str | None = None) -> str:
    """``value`` plus, in English, the catalog's note ("30 hours (with the charging case)") and the
    meaning of an IP code."""
    text = value(a, lang, unit)
    meaning = water_meaning(a.value, lang)
    if meaning:
        text += f"（{meaning}）" if lang == "zh" else f" ({meaning})"
    if a.note and lang != "zh":
        text += f" ({a.note})"
    return text


def join(items: list[str], lang: str) -> str:
    if lang == "zh":
        return "、".join(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def name(p: Product, lang: str) -> str:
    return p.display_name(lang)
