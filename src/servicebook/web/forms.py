from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """The sign-in form, with Bootstrap classes on its widgets."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


class BootstrapFormMixin:
    """Gives every widget the Bootstrap class it needs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            css = (
                "form-check-input"
                if getattr(widget, "input_type", None) == "checkbox"
                else "form-control"
            )
            if widget.__class__.__name__ == "Select":
                css = "form-select"
            widget.attrs.setdefault("class", css)
