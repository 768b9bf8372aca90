"""One workflow engine: each state machine declared once, refused one way, audited one way.

An app declares its state machine as a :class:`Workflow` (which states may follow which, where a
new object may start, the event model that records each step) and registers it; the app's
``AppConfig.ready()`` imports the declaration, so a workflow that does not match its model's
status choices stops the start-up. The services then ask the workflow:

- ``WORKFLOW.move(obj, to, actor=…, action=…, note=…)``: check the step, set the state, validate
  and save the object, and write the event row (who, when, from → to, why);
- ``WORKFLOW.check(obj, to)``: refuse a step before doing anything else (the same refusal);
- ``WORKFLOW.require(obj, states, doing=…)``: refuse an edit that is not a step while the object
  is not in one of ``states`` (e.g. "a change is edited only while draft or in assessment");
- ``WORKFLOW.record(obj, actor, action, …)``: the event row of anything else that happened.

Every refusal is a :class:`DomainError` with code ``invalid_transition``; a refused step names the
object, its state and the refused one, with field ``to_status`` (the API's name for the state asked
for); a refused edit has field ``status`` (the object's state that refuses it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models

from servicebook.core.errors import DomainError

#: the stable error code of every refused workflow step (the API's ``code``)
INVALID_TRANSITION = "invalid_transition"
#: the field a refused step names: the state asked for
STEP_FIELD = "to_status"
#: the field a refused edit names: the object's state
STATE_FIELD = "status"

#: a condition on one transition: (predicate on the object, why the step is refused otherwise)
Guard = tuple[Callable[[Any], bool], str]


def transition_refusal(
    what: str, from_label: str, to_label: str, *, name: str = "", because: str = ""
) -> DomainError:
    """The one refusal of a workflow step: "the change request RFC-1 is draft and cannot become
    scheduled" (``because`` adds why, where a condition and not the table refuses it)."""
    subject = f"the {what} {name}".rstrip()
    why = f": {because}" if because else ""
    return DomainError(
        f"{subject} is {from_label} and cannot become {to_label}{why}",
        code=INVALID_TRANSITION,
        field=STEP_FIELD,
    )


def check_table(
    what: str,
    from_state: str,
    to_state: str,
    transitions: Mapping[str, Collection[str]],
    *,
    name: str = "",
    labels: Mapping[str, str] | None = None,
) -> None:
    """Refuse a step a transition table does not allow; an unknown target is a field error."""
    if to_state not in transitions:
        raise ValidationError({STEP_FIELD: f"unknown status {to_state!r}"})
    if to_state not in transitions.get(from_state, ()):
        labels = labels or {}
        raise transition_refusal(
            what, labels.get(from_state, from_state), labels.get(to_state, to_state), name=name
        )


@dataclass(frozen=True)
class Workflow:
    """A state machine declared once: the steps of ``model``'s ``state_field``.

    ``transitions`` maps every state (each of the field's choices, final ones to nothing) to the
    states that may follow it; ``initial`` lists where a new object may start; ``guards`` adds a
    condition to a transition, ``(from, to) → (predicate(obj), why not)``. ``event_model`` (an
    ``EventModel``) records each step through its foreign key ``subject_field``; ``name`` says
    how a message names one object (its reference, its title).
    """

    what: str
    model: type[models.Model]
    transitions: Mapping[str, Collection[str]]
    event_model: type[models.Model]
    subject_field: str
    initial: Collection[str]
    state_field: str = "status"
    guards: Mapping[tuple[str, str], Guard] = field(default_factory=dict)
    name: Callable[[Any], str] = str

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ImproperlyConfigured(f"workflow of {self.label}: " + "; ".join(problems))

    # --- the declaration ----------------------------------------------------------------------

    @property
    def label(self) -> str:
        """The model's ``app_label.model_name``: the registry's key."""
        return self.model._meta.label_lower

    @property
    def labels(self) -> dict[str, str]:
        """Each state and how people read it ("awaiting approval")."""
        choices = getattr(self.model._meta.get_field(self.state_field), "choices", None) or ()
        return {value: str(text).lower() for value, text in choices}

    def _problems(self) -> Iterable[str]:
        declared = set(self.labels)
        if not declared:
            yield f"{self.state_field} has no choices"
        missing, unknown = declared - set(self.transitions), set(self.transitions) - declared
        if missing:
            yield f"no transitions declared for {sorted(missing)}"
        if unknown:
            yield f"transitions from states that are not choices: {sorted(unknown)}"
        for source, targets in self.transitions.items():
            if set(targets) - declared:
                yield f"{source} leads to unknown states {sorted(set(targets) - declared)}"
        if not self.initial or set(self.initial) - declared:
            yield f"initial states {sorted(self.initial)} are not choices"
        for step in self.guards:
            if step[1] not in self.transitions.get(step[0], ()):
                yield f"guard on {step}, which is no declared transition"
        subject = getattr(self.event_model, "_meta", None)
        if subject is None or self.subject_field not in {f.name for f in subject.get_fields()}:
            yield f"{self.event_model.__name__} has no field {self.subject_field!r}"

    def reachable(self) -> set[str]:
        """The states an object can reach from its initial states (every one, if well made)."""
        seen, todo = set(self.initial), list(self.initial)
        while todo:
            for target in self.transitions[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    def final_states(self) -> set[str]:
        return {state for state, targets in self.transitions.items() if not targets}

    # --- asking -------------------------------------------------------------------------------

    def state_of(self, obj) -> str:
        return getattr(obj, self.state_field)

    def next_states(self, obj) -> list[str]:
        """The states the table lets ``obj`` go to next (before the guards), in choice order."""
        targets = self.transitions[self.state_of(obj)]
        return [state for state in self.labels if state in targets]

    def refusal(self, obj, to_state: str) -> DomainError | None:
        """Why ``obj`` may not go to ``to_state`` now, or None."""
        try:
            self.check(obj, to_state)
        except DomainError as error:
            return error
        return None

    def allows(self, obj, to_state: str) -> bool:
        return to_state in self.transitions and self.refusal(obj, to_state) is None

    def check(self, obj, to_state: str) -> None:
        """Refuse the step ``obj`` → ``to_state`` unless the table and its guard allow it."""
        from_state = self.state_of(obj)
        labels = self.labels
        name = self.name(obj)
        check_table(self.what, from_state, to_state, self.transitions, name=name, labels=labels)
        guard = self.guards.get((from_state, to_state))
        if guard is not None and not guard[0](obj):
            raise transition_refusal(
                self.what, labels[from_state], labels[to_state], name=name, because=guard[1]
            )

    def state_refusal(self, obj, states: Collection[str], *, doing: str) -> DomainError | None:
        """Why ``obj`` may not ``doing`` now, unless it is in one of ``states``, or None."""
        state = self.state_of(obj)
        if state in states:
            return None
        subject = f"the {self.what} {self.name(obj)}".rstrip()
        return DomainError(
            f"{subject} is {self.labels.get(state, state)}: cannot {doing}",
            code=INVALID_TRANSITION,
            field=STATE_FIELD,
        )

    def require(self, obj, states: Collection[str], *, doing: str) -> None:
        """Refuse what is not a step of the table (an edit, or a step allowed from fewer states
        than its target is reached from) unless ``obj`` is in one of ``states``: "the change
        request RFC-1 is reviewed: cannot get new tasks"."""
        refusal = self.state_refusal(obj, states, doing=doing)
        if refusal is not None:
            raise refusal

    # --- doing --------------------------------------------------------------------------------

    def move(
        self, obj, to_state: str, *, actor, action: str = "status", note: str = "", **fields
    ) -> models.Model:
        """The step: checked, the object validated and saved, its event row written."""
        from servicebook.core.services import save_validated

        self.check(obj, to_state)
        from_state = self.state_of(obj)
        setattr(obj, self.state_field, to_state)
        try:
            save_validated(obj)
        except Exception:
            setattr(obj, self.state_field, from_state)  # the object stays as it was
            raise
        return self.record(
            obj, actor, action, from_state=from_state, to_state=to_state, note=note, **fields
        )

    def record(
        self,
        obj,
        actor,
        action: str,
        *,
        from_state: str = "",
        to_state: str = "",
        note: str = "",
        reason: str = "",
        **fields,
    ) -> models.Model:
        """Write one event row of ``obj``: who, what, from → to, the reason code and the note
        (``fields``: the event model's own extra columns, e.g. the customer it concerns)."""
        return self.event_model._default_manager.create(
            **{self.subject_field: obj},
            actor=actor,
            action=action,
            from_state=from_state,
            to_state=to_state,
            reason=(reason or "")[: _max_length(self.event_model, "reason")],
            note=note,
            **fields,
        )


def _max_length(model: type[models.Model], name: str) -> int | None:
    return getattr(model._meta.get_field(name), "max_length", None)


_REGISTRY: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    """Make ``workflow`` the one state machine of its model (a second one is refused)."""
    known = _REGISTRY.get(workflow.label)
    if known is not None and known is not workflow:
        raise ImproperlyConfigured(f"{workflow.label} already has a workflow")
    _REGISTRY[workflow.label] = workflow
    return workflow


def registered() -> list[Workflow]:
    """Every declared workflow, by model label."""
    return [_REGISTRY[label] for label in sorted(_REGISTRY)]


def workflow_for(model: type[models.Model]) -> Workflow:
    try:
        return _REGISTRY[model._meta.label_lower]
    except KeyError:
        raise LookupError(f"{model._meta.label_lower} declares no workflow") from None
