"""The first-run page (issue 18): on a database without a provider, the web app offers to set
one up with its first administrator, as ``servicebook init`` does. Reachable only while no
provider exists; afterwards it answers *not found*."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from servicebook.core.errors import DomainError
from servicebook.core.money import CURRENCY_CHOICES
from servicebook.finance.billing.tax import seed_rates
from servicebook.parties.models import Sector
from servicebook.parties.setup import provider_exists, set_up_provider
from servicebook.web.forms import BootstrapFormMixin

#: The form's fields, by the names ``set_up_provider`` gives its refusals.
FIELD_OF = {"admin_user": "admin_username", "admin_email": "admin_email"}


class SetUpForm(BootstrapFormMixin, forms.Form):
    name = forms.CharField(label="Provider's name", max_length=200)
    sector = forms.ChoiceField(
        label="Sector",
        choices=Sector.choices,
        help_text="Decides what internal charging aims at and what external prices must earn.",
    )
    currency = forms.ChoiceField(label="Base currency", choices=CURRENCY_CHOICES, initial="EUR")
    country = forms.CharField(
        label="Home country",
        max_length=2,
        help_text="Two letters (ISO 3166), e.g. FR or DE.",
    )
    admin_username = forms.CharField(label="Administrator's user name", initial="admin")
    admin_email = forms.EmailField(label="Administrator's e-mail address")
    admin_password = forms.CharField(
        label="Administrator's password", widget=forms.PasswordInput, strip=False
    )
    admin_password_again = forms.CharField(
        label="The same password again", widget=forms.PasswordInput, strip=False
    )

    def clean(self):
        data = super().clean()
        if data.get("admin_password") != data.get("admin_password_again"):
            self.add_error("admin_password_again", "The two passwords differ.")
        return data


def first_run(request):
    """GET: the set-up form; POST: set up the provider, sign its administrator in, go home."""
    if provider_exists():
        raise Http404("A provider is set up already.")
    form = SetUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                provider, admin = set_up_provider(
                    name=data["name"],
                    sector=data["sector"],
                    currency=data["currency"],
                    country=data["country"].upper(),
                    admin_username=data["admin_username"],
                    admin_email=data["admin_email"],
                    admin_password=data["admin_password"],
                )
                seed_rates(provider.country)
        except DomainError as error:
            field = FIELD_OF.get(error.field or "", error.field)
            message = str(error).split(": ", 1)[-1] if field in form.fields else str(error)
            form.add_error(field if field in form.fields else None, message)
        else:
            login(request, admin, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"{data['name']} is set up and you are signed in as {admin.username}. "
                "Next: load your customers and catalog, then your agreements.",
            )
            return redirect("web:home")
    return render(request, "web/first_run.html", {"form": form}, status=200)


class FirstRunMiddleware:
    """While no provider exists, the sign-in page and the home page lead to the first-run page.

    Asks the database only for those two pages' GETs, and stops asking once a provider exists
    (a provider is never deleted in use)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.set_up = False

    def __call__(self, request):
        if not self.set_up and request.method == "GET" and request.path in self._paths():
            if provider_exists():
                self.set_up = True
            else:
                return redirect("web:first-run")
        return self.get_response(request)

    @staticmethod
    def _paths() -> tuple[str, str]:
        return (reverse("login"), reverse("web:home"))
