from django import forms

from servicebook.parties.models import Contact, Customer, CustomerStatus, StatusReason
from servicebook.web.forms import BootstrapFormMixin


class CustomerForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = list(Customer.EDITABLE_FIELDS)

    def _post_clean(self):
        # The service runs the model checks (full_clean) once; the form only parses input.
        pass


class CustomerStatusForm(BootstrapFormMixin, forms.Form):
    to_status = forms.ChoiceField(choices=CustomerStatus.choices, label="New status")
    reason = forms.ChoiceField(
        choices=[("", "—"), *StatusReason.choices], required=False, label="Reason"
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ContactForm(BootstrapFormMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = [f for f in Contact.EDITABLE_FIELDS if f != "active"]

    def _post_clean(self):
        pass
