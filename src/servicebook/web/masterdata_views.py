"""The master data upload page (``/import/``): a CSV file of customers, contacts, services or
offerings loaded at once through the same services as the forms, the counts and the rejected
rows shown on the page, the rejects file offered for download.

Synchronous: master data files are small (hundreds or a few thousand rows); a file larger than
:data:`MAX_BYTES` is refused with a pointer to ``servicebook import master``.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.generic import FormView

from servicebook.core.errors import PermissionDenied
from servicebook.core.masterdata import FileRefused
from servicebook.web import masterdata
from servicebook.web.forms import BootstrapFormMixin
from servicebook.web.mixins import RoleRequiredMixin

MAX_BYTES = 5 * 1024 * 1024
#: Rows the page loads while the user waits (about 10 s); larger files go to the command.
MAX_ROWS = 2_000
#: Everybody who may load at least one kind (the kinds list narrows it per role).
LOADERS = tuple(sorted({role for kind in masterdata.KINDS.values() for role in kind.roles}))
#: What a person types in a file (``chargeback``, ``user_month``, ``FR;DE``), shown as code.
FILE_VALUE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b\d[\d.:;]*\d\b|\b[A-Z]{2}(?:;[A-Z]{2})+\b")


def as_code(text: str) -> SafeString:
    """``text`` with the values a file holds set as code (escaped first)."""
    parts, at = [], 0
    for match in FILE_VALUE.finditer(text):
        parts += [escape(text[at : match.start()]), f"<code>{escape(match.group(0))}</code>"]
        at = match.end()
    return mark_safe("".join([*parts, escape(text[at:])]))  # every piece escaped


class MasterDataForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label="What the file holds")
    file = forms.FileField(
        label="CSV file", help_text="UTF-8, with a header line naming the columns below."
    )
    dry_run = forms.BooleanField(
        required=False, label="Check only: count and list the rejects, write nothing"
    )

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind.name, kind.title) for kind in kinds]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB: load it with "
                "`servicebook import master` instead"
            )
        lines = sum(chunk.count(b"\n") for chunk in upload.chunks())
        upload.seek(0)
        if lines > MAX_ROWS + 1:
            raise forms.ValidationError(
                f"the file has about {lines - 1:,} rows: the page loads at most {MAX_ROWS:,} "
                "while you wait; load it with `servicebook import master` instead"
            )
        return upload


class MasterDataImportView(RoleRequiredMixin, FormView):
    """Load master data from a CSV file (provider admin and service managers; finance:
    offerings)."""

    required_roles = LOADERS
    template_name = "web/import_master.html"
    form_class = MasterDataForm

    def kinds(self):
        return masterdata.kinds_for(self.request.user)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "kinds": self.kinds()}

    def get_initial(self):
        return {"kind": self.request.GET.get("kind", "")}

    def get_context_data(self, **kwargs):
        guide = [
            (
                kind,
                [
                    (column, column in kind.required, as_code(kind.help.get(column, "")))
                    for column in kind.columns
                ],
            )
            for kind in self.kinds()
        ]
        return super().get_context_data(guide=guide, **kwargs)

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            columns, result = masterdata.import_file(
                actor=self.request.user,
                kind=form.cleaned_data["kind"],
                data=upload.read(),
                name=upload.name,
                dry_run=form.cleaned_data["dry_run"],
            )
        except PermissionDenied as error:
            raise DjangoPermissionDenied(error.message) from error
        except FileRefused as error:
            form.add_error("file", error.message)
            return self.form_invalid(form)
        context = self.get_context_data(form=form, result=result, filename=upload.name)
        if result.rejects:
            context["rejects_csv"] = masterdata.rejects_csv(result, columns)
            context["rejects_name"] = f"{upload.name.rsplit('.', 1)[0]}-rejects.csv"
        return self.render_to_response(context)
