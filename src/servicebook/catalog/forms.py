from django import forms

from servicebook.catalog.models import Offering, Service
from servicebook.web.forms import BootstrapFormMixin


class ServiceForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Service
        fields = ["code", "name", "description", "status", "offered_to"]

    def _post_clean(self):
        pass


class OfferingForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Offering
        fields = list(Offering.EDITABLE_FIELDS)

    def _post_clean(self):
        pass
