"""The service review pack as PDF: WeasyPrint renders the same data as the page (R7 holds:
an external customer's pack carries prices only, whoever prints it)."""

from __future__ import annotations

from django.template.loader import render_to_string

from servicebook.improvement import selectors


def pack_context(pack: dict, *, user) -> dict:
    seen = selectors.viewer(user)
    return {
        **pack,
        "provider": pack["customer"].provider,
        "rows": [
            {"item": item, "progress": selectors.progress(item), "level": seen.level(item)}
            for item in pack["improvements"]
        ],
    }


def pack_pdf(pack: dict, *, user) -> bytes:
    from weasyprint import HTML

    html = render_to_string("improvement/review_pack_print.html", pack_context(pack, user=user))
    return HTML(string=html).write_pdf()
