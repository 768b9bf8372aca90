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
