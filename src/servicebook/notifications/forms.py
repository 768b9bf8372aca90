from django import forms

from servicebook.notifications.kinds import Channel, Kind


class ChannelsForm(forms.Form):
    """One channel per kind of notification."""

    def __init__(self, *args, initial_channels: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in Kind:
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label,
                choices=Channel.choices,
                initial=initial_channels.get(kind.value),
            )
