from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """The sign-in form, with Bootstrap classes on its widgets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


class BootstrapFormMixin:
    """Gives every widget the Bootstrap class it needs, and dates the browser's own date field
    (shown and entered in the user's locale; its value in ISO, so a default stays filled in)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.DateInput):
                widget.input_type, widget.format = "date", "%Y-%m-%d"
            elif isinstance(widget, forms.DateTimeInput):
                widget.input_type, widget.format = "datetime-local", "%Y-%m-%dT%H:%M"
            css = (
                "form-check-input"
                if getattr(widget, "input_type", None) == "checkbox"
                else "form-control"
            )
            if widget.__class__.__name__ == "Select":
                css = "form-select"
            widget.attrs.setdefault("class", css)


#: options a select of objects offers at most when they can be many (issue 14)
SHOWN = 50


def some_of(queryset, search: str, fields: tuple[str, ...], chosen=None) -> tuple[list, bool]:
    """The first ``SHOWN`` objects of ``queryset`` whose ``fields`` contain ``search`` if given,
    plus the ``chosen`` one (a pk) when it is not among them, and whether more match than are
    shown: what a select of objects that can be many offers (issue 14)."""
    from django.db.models import Q

    offered = queryset
    if search:
        match = Q()
        for path in fields:
            match |= Q(**{f"{path}__icontains": search})
        offered = offered.filter(match)
    found = list(offered[: SHOWN + 1])
    more = len(found) > SHOWN
    found = found[:SHOWN]
    if chosen and str(chosen).isdigit() and all(str(o.pk) != str(chosen) for o in found):
        found += list(queryset.filter(pk=chosen))
    return found, more


def offer_some(form, name: str, search: str, fields: tuple[str, ...]) -> bool:
    """Let the model choice field ``name`` accept any object of its queryset (one query when
    posted) but offer only the first ``SHOWN`` in its select, those whose ``fields`` contain
    ``search`` if given (and the one posted, when a form comes back with errors): a select of
    every customer or agreement of 10,000 was megabytes of page. Returns whether more match than
    are offered (the page then says to narrow the search)."""
    field = form.fields[name]
    chosen = form.data.get(form.add_prefix(name)) if form.is_bound else None
    found, more = some_of(field.queryset, search, fields, chosen)
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    field.widget.choices = empty + [(o.pk, field.label_from_instance(o)) for o in found]
    return more
