"""The provider's policy settings (sector, currency, margins, recovery, due-diligence validity)
and their history: who changed what and when, from which value to which (issue 18).

Every change goes through :func:`update_provider_settings` (the settings page and the API alike):
only the provider admin may make it, it is validated like any model write, and it writes one
:class:`~servicebook.parties.models.ProviderSettingChange` row per changed field. Margins are
for finance and the admin only (R6/R7): :func:`settings_shown_to` and :func:`history_for` leave
them out for everybody else.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from servicebook.core.errors import DomainError
from servicebook.core.models import User
from servicebook.core.roles import Role
from servicebook.core.services import apply_changes, require_role, save_validated
from servicebook.parties.models import Provider, ProviderSettingChange, Sector
from servicebook.policy import user_may_see_margin

SETTING_EDITORS = (Role.PROVIDER_ADMIN,)

#: Every setting, in page order, with its human label.
LABELS = {
    "name": "Name",
    "sector": "Sector",
    "base_currency": "Base currency",
    "country": "Home country",
    "internal_margin": "Internal margin allowed",
    "recovery_share": "Recovery share",
    "minimum_margin": "Minimum margin on external prices",
    "discount_rate": "Discount rate for business cases",
    "due_diligence_validity_months": "Due diligence stays valid for",
    # printed on every invoice (decision 0026)
    "legal_name": "Legal name",
    "address": "Registered address",
    "registration_number": "Registration number",
    "vat_number": "VAT number",
    "iban": "IBAN",
    "bic": "BIC",
}
SETTINGS = tuple(LABELS)
#: Fractions stored as 0.05, shown and typed as 5 %.
RATES = ("internal_margin", "recovery_share", "minimum_margin", "discount_rate")
#: Shown to finance and the provider admin only.
MARGINS = ("internal_margin", "minimum_margin")


def percent(value: Decimal) -> Decimal:
    """0.05 → 5 (for a form's initial value)."""
    return (Decimal(value) * 100).normalize() + Decimal(0)


def shown_value(field: str, raw) -> str:
    """A setting's value as a person reads it: ``5 %``, ``Non-profit``, ``12 months``."""
    if raw is None or raw == "":
        return "—"
    if field in RATES:
        return f"{percent(Decimal(str(raw))):f} %"
    if field == "sector":
        return dict(Sector.choices).get(str(raw), str(raw))
    if field == "due_diligence_validity_months":
        return f"{raw} month{'s' if str(raw) != '1' else ''}"
    return str(raw)


def _stored(value) -> str:
    if isinstance(value, Decimal):
        return f"{value.normalize() + Decimal(0):f}"
    return "" if value is None else str(value)


def _name(user) -> str:
    return (user.get_full_name() or "").strip() or user.get_username()


def settings_shown_to(user) -> tuple[str, ...]:
    """The settings ``user`` may see (every staff member; margins: finance and the admin)."""
    if user is None or user_may_see_margin(user):
        return SETTINGS
    return tuple(name for name in SETTINGS if name not in MARGINS)


def current_settings(provider: Provider, user) -> list[tuple[str, str, str]]:
    """``[(field, label, shown value), …]`` of the settings ``user`` may see."""
    return [
        (name, LABELS[name], shown_value(name, getattr(provider, name)))
        for name in settings_shown_to(user)
    ]


def history_for(provider: Provider, user):
    """The provider's setting changes ``user`` may see, newest first."""
    return provider.setting_changes.filter(field__in=settings_shown_to(user)).select_related(
        "changed_by"
    )


def change_rows(provider: Provider, user) -> list[dict]:
    """The history as the page shows it: when, who, which setting, from, to, what it did."""
    return [
        {
            "at": change.changed_at,
            "by": _name(change.changed_by) if change.changed_by else "system",
            "label": LABELS.get(change.field, change.field),
            "old": shown_value(change.field, change.old_value),
            "new": shown_value(change.field, change.new_value),
            "note": change.note,
        }
        for change in history_for(provider, user)
    ]


def base_currency_lock(provider: Provider) -> str | None:
    """Why the base currency can no longer change, or None while it still may."""
    count = provider.customers.count()
    if not count:
        return None
    return (
        f"{count} customer{'s' if count != 1 else ''} already "
        f"{'have' if count != 1 else 'has'} amounts in {provider.base_currency} (budgets, "
        "internal charges and statements): changing the base currency would relabel them "
        "without converting them"
    )


def _due_diligence_effect(provider: Provider, old: int, new: int, today: dt.date) -> str:
    """Which customers' due diligence stops (or starts again) being current when its validity
    goes from ``old`` to ``new`` months: said on the page and kept on the history row."""
    from servicebook.parties.services import latest_due_diligence

    lapsed, renewed = [], []
    for customer in provider.customers.order_by("name"):
        latest = latest_due_diligence(customer)
        if latest is None or not latest.allows_agreements:
            continue
        was = latest.expires_on(old)
        now = latest.expires_on(new)
        if was is None or now is None:
            continue
        if was > today >= now:
            lapsed.append(customer.name)
        elif now > today >= was:
            renewed.append(customer.name)
    parts = []
    if lapsed:
        parts.append(f"no longer current for {', '.join(lapsed)}: request a fresh one")
    if renewed:
        parts.append(f"current again for {', '.join(renewed)}")
    return f"Due diligence {'; '.join(parts)}." if parts else ""


def _clean_input(changes: dict) -> dict:
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise ValidationError({name: "not a provider setting" for name in unknown})
    cleaned = dict(changes)
    for name in ("name", "country", "legal_name", "address", "registration_number"):
        if isinstance(cleaned.get(name), str):
            cleaned[name] = cleaned[name].strip()
    for name in ("country", "vat_number", "iban", "bic"):
        if isinstance(cleaned.get(name), str):
            cleaned[name] = cleaned[name].strip().upper()
    if "name" in cleaned and not cleaned["name"]:
        raise ValidationError({"name": "the provider needs a name"})
    return cleaned


@transaction.atomic
def update_provider_settings(
    *,
    actor: User | None,
    provider: Provider | None = None,
    today: dt.date | None = None,
    **changes,
) -> tuple[Provider, list[ProviderSettingChange]]:
    """Change the provider's settings: validated, then one history row per changed field.

    Refuses (writing nothing) a user who is not the provider admin, an unknown setting, a value
    out of range, and a new base currency once customers exist. Returns the provider and the
    history rows written (none when nothing changed).
    """
    require_role(actor, *SETTING_EDITORS, action="Changing the provider's settings")
    changes = _clean_input(changes)
    provider = Provider.objects.select_for_update().get(pk=(provider or Provider.current()).pk)
    if changes.get("base_currency", provider.base_currency) != provider.base_currency:
        locked = base_currency_lock(provider)
        if locked:
            raise DomainError(
                f"The base currency stays {provider.base_currency}: {locked}.",
                code="base_currency_locked",
                field="base_currency",
            )
    changed = apply_changes(provider, changes)
    if not changed:
        return provider, []
    save_validated(provider)
    notes = {}
    if "due_diligence_validity_months" in changed:
        old, new = changed["due_diligence_validity_months"]
        notes["due_diligence_validity_months"] = _due_diligence_effect(
            provider, old, new, today or timezone.localdate()
        )
    rows = ProviderSettingChange.objects.bulk_create(
        ProviderSettingChange(
            provider=provider,
            field=name,
            old_value=_stored(old),
            new_value=_stored(new),
            changed_by=actor,
            note=notes.get(name, ""),
        )
        for name, (old, new) in changed.items()
    )
    return provider, rows
