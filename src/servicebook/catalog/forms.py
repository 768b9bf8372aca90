from django import forms

from servicebook.catalog.models import DesignSpecification, Offering, Service
from servicebook.parties.models import Contact
from servicebook.web.forms import BootstrapFormMixin


class ServiceForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Service
        fields = ["code", "name", "description", "status", "offered_to", "tax_kind"]

    def _post_clean(self):
        pass


class OfferingForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Offering
        fields = list(Offering.EDITABLE_FIELDS)

    def _post_clean(self):
        pass


class SpecificationForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = DesignSpecification
        fields = [
            "customer",
            "positioning",
            "functionality",
            "manageability",
            "constraints",
            "expected_roi",
            "price",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in ("functionality", "manageability", "constraints", "expected_roi")
        }

    def _post_clean(self):
        pass


class SignOffForm(BootstrapFormMixin, forms.Form):
    specification = forms.ModelChoiceField(queryset=DesignSpecification.objects.none())
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), label="Signed off by")

    def __init__(self, *args, service=None, **kwargs):
        super().__init__(*args, **kwargs)
        drafts = service.specifications.filter(status="draft", customer__isnull=False)
        self.fields["specification"].queryset = drafts
        self.fields["contact"].queryset = Contact.objects.filter(
            customer__in=drafts.values("customer"), is_approver=True, active=True
        )
