"""Guard: free text a legal document carries is checked once, where it is entered
(``core.services.document_text``). Whatever the check lets through can be written into an
e-invoice's XML; whatever XML cannot carry is refused there with its position, not met later
as a server error when the document is downloaded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from servicebook.core.errors import DomainError
from servicebook.core.services import document_text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_accepted_text_is_always_writable_as_xml(text):
    try:
        kept = document_text(text, field="reason", max_length=60)
    except DomainError as refused:
        assert refused.field == "reason"
        return
    node = etree.Element("Note")
    node.text = kept  # lxml raises ValueError on anything XML 1.0 cannot carry
    assert etree.fromstring(etree.tostring(node)).text in (kept, None)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "required"),
        ("ab\x00c", r"U\+0000 at position 3"),
        ("\ufffe", r"U\+FFFE at position 1"),
        ("x" * 11, "at most 10 characters"),
    ],
)
def test_refusals_say_what_and_where(text, message):
    with pytest.raises(DomainError, match=message):
        document_text(text, field="reason", max_length=10)


def test_line_breaks_tabs_and_any_language_are_kept():
    text = "Panne du 12 octobre\n\tkiosques d'enregistrement — 2 jours · 東京 🛫"
    assert document_text(f"  {text}  ", field="reason", max_length=100) == text
