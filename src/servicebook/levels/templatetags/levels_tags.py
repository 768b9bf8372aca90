"""Template filters of the service level pages."""

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Business or wall seconds as ``2 d 3 h 05 min`` (``—`` for None)."""
    if seconds is None or seconds == "":
        return "—"
    seconds = int(seconds)
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(f"{days} d")
    if hours or days:
        parts.append(f"{hours} h")
    parts.append(f"{minutes:02d} min" if (hours or days) else f"{minutes} min")
    return sign + " ".join(parts)


@register.filter
def lookup(mapping, key):
    """``{{ dict|lookup:key }}``."""
    return mapping.get(key) if mapping else None
