"""Attached files (issue 18): contracts, due-diligence evidence, design specifications, changes.

Each test stores its files through the storage API in its own temporary var dir, and checks
them there: who may add a file (the record's own edit rule), who may download it (whoever may
see the record; another customer's user gets 404), the size limit, the file name, and that a
refusal or a failure writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from servicebook.agreements.models import Agreement
from servicebook.catalog.models import DesignSpecification
from servicebook.changes.models import ChangeRequest
from servicebook.core import attachments
from servicebook.core.errors import DomainError, PermissionDenied
from servicebook.core.models import Attachment
from servicebook.parties.models import DueDiligence

PDF = b"%PDF-1.7\n% a signed contract\n%%EOF\n"


@pytest.fixture
def var_dir(tmp_path, settings):
    """A var dir of the test's own: the attachments storage writes under it."""
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def fresh(db):
    """The attachments this test added (the demo has some of its own)."""
    baseline = Attachment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return lambda: Attachment.objects.filter(pk__gt=baseline)


def stored_files(var_dir: Path) -> list[Path]:
    return sorted(p for p in (var_dir / "attachments").rglob("*") if p.is_file())


def upload(client, kind, record, name="contract.pdf", content=PDF, description="Signed copy"):
    url = reverse(f"web:attach-{kind}", args=[record.pk])
    return client.post(url, {"file": SimpleUploadedFile(name, content), "description": description})


@pytest.fixture
def records(users):
    internal, external = users["internal"].customer, users["external"].customer
    internal_only = ChangeRequest.objects.visible_to(users["internal"]).exclude(
        pk__in=ChangeRequest.objects.visible_to(users["external"]).values("pk")
    )
    spec = DesignSpecification.objects.filter(customer=internal).first()
    assert spec is not None, "the demo has a design made with the internal customer"
    due_diligence = DueDiligence.objects.filter(customer=internal).first()
    if due_diligence is None:
        due_diligence = DueDiligence.objects.create(customer=internal)
    return {
        "internal_agreement": Agreement.objects.filter(customer=internal).first(),
        "external_agreement": Agreement.objects.filter(customer=external).first(),
        "internal_change": internal_only.first(),
        "spec": spec,
        "due_diligence": due_diligence,
    }


def test_a_service_manager_attaches_a_contract_that_its_customer_downloads(
    fresh, var_dir, users, web_for, records
):
    agreement = records["external_agreement"]
    response = upload(web_for(users["manager"]), "agreement", agreement)
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:detail", args=[agreement.pk])

    attachment = fresh().get()
    assert attachment.record == agreement
    assert (attachment.filename, attachment.size) == ("contract.pdf", len(PDF))
    assert attachment.media_type == "application/pdf"
    assert attachment.uploaded_by == users["manager"] and attachment.description == "Signed copy"
    # really stored through the storage API, under the var dir
    [path] = stored_files(var_dir)
    assert path.read_bytes() == PDF and path.name.endswith("-contract.pdf")
    assert attachments.storage.exists(attachment.file.name)

    page = web_for(users["external"]).get(reverse("agreements:detail", args=[agreement.pk]))
    text = page.content.decode()
    assert "contract.pdf" in text and "added by" in text and "Signed copy" in text
    assert 'data-testid="attach-form"' not in text  # the customer may not add one

    response = web_for(users["external"]).get(reverse("web:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="contract.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"


def test_another_customers_user_gets_404(fresh, var_dir, users, web_for, records):
    agreement = records["external_agreement"]
    upload(web_for(users["manager"]), "agreement", agreement)
    attachment = fresh().get()
    intruder = web_for(users["internal"])
    assert intruder.get(reverse("web:attachment", args=[attachment.pk])).status_code == 404
    assert upload(intruder, "agreement", agreement).status_code == 404
    assert fresh().count() == 1 and len(stored_files(var_dir)) == 1


@pytest.mark.parametrize(
    ("kind", "record", "allowed", "refused"),
    [
        ("agreement", "internal_agreement", ["admin", "manager"], ["finance", "change", "senior"]),
        ("due-diligence", "due_diligence", ["admin", "manager"], ["finance", "change", "senior"]),
        ("specification", "spec", ["admin", "manager"], ["finance", "change", "senior"]),
        ("change", "internal_change", ["admin", "change"], ["manager", "finance", "senior"]),
    ],
)
def test_only_those_who_edit_the_record_attach(
    fresh, var_dir, users, web_for, records, kind, record, allowed, refused
):
    target = records[record]
    for role in refused:
        client = web_for(users[role])
        assert upload(client, kind, target).status_code == 403, role
        assert client.get(reverse(f"web:attach-{kind}", args=[target.pk])).status_code == 403
    assert not fresh().exists() and not stored_files(var_dir)
    for role in allowed:
        assert upload(web_for(users[role]), kind, target, name=f"{role}.pdf").status_code == 302
    assert sorted(a.filename for a in fresh()) == sorted(f"{role}.pdf" for role in allowed)


def test_the_page_offers_the_form_only_to_those_who_may_attach(users, web_for, records):
    change = records["internal_change"]
    url = reverse("changes:detail", args=[change.pk])
    assert 'data-testid="attach-form"' in web_for(users["change"]).get(url).content.decode()
    for role in ("manager", "internal"):
        text = web_for(users[role]).get(url).content.decode()
        assert (
            'data-testid="attachments-change"' in text and 'data-testid="attach-form"' not in text
        )


def test_customer_users_never_attach_even_to_their_own_records(
    fresh, var_dir, users, web_for, records
):
    assert (
        upload(web_for(users["internal"]), "agreement", records["internal_agreement"]).status_code
        == 403
    )
    assert upload(web_for(users["internal"]), "specification", records["spec"]).status_code == 403
    assert not fresh().exists() and not stored_files(var_dir)


def test_due_diligence_evidence_is_for_staff_only(fresh, var_dir, users, web_for, records):
    due_diligence = records["due_diligence"]
    assert upload(web_for(users["manager"]), "due-diligence", due_diligence).status_code == 302
    attachment = fresh().get()
    url = reverse("web:attachment", args=[attachment.pk])
    assert web_for(users["finance"]).get(url).status_code == 200
    # the customer's own user does not see the evidence gathered about it
    assert web_for(users["internal"]).get(url).status_code == 404
    assert upload(web_for(users["internal"]), "due-diligence", due_diligence).status_code == 404


@pytest.mark.parametrize("record", ["internal_change", "spec"])
def test_external_users_do_not_see_internal_only_records(
    fresh, var_dir, users, web_for, records, record
):
    kind = "change" if record == "internal_change" else "specification"
    uploader = users["change" if kind == "change" else "manager"]
    assert upload(web_for(uploader), kind, records[record]).status_code == 302
    url = reverse("web:attachment", args=[fresh().get().pk])
    assert web_for(users["internal"]).get(url).status_code == 200
    assert web_for(users["external"]).get(url).status_code == 404


def test_a_file_over_the_limit_is_refused_clearly_and_nothing_is_written(
    fresh, var_dir, settings, users, web_for, records
):
    settings.SERVICEBOOK_ATTACHMENT_MAX_BYTES = 1024
    response = upload(
        web_for(users["manager"]), "agreement", records["internal_agreement"], content=b"x" * 1025
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "contract.pdf is 1 KB; files may be at most 1 KB." in text
    assert not fresh().exists() and not stored_files(var_dir)


def test_an_empty_file_is_refused(fresh, var_dir, users, web_for, records):
    response = upload(
        web_for(users["manager"]), "agreement", records["internal_agreement"], content=b""
    )
    assert response.status_code == 400 and "is empty" in response.content.decode()
    assert not fresh().exists() and not stored_files(var_dir)


def test_no_partial_write_when_the_row_cannot_be_saved(fresh, var_dir, users, records, monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(Attachment, "save", broken)
    upload_file = SimpleUploadedFile("contract.pdf", PDF)
    with pytest.raises(RuntimeError):
        attachments.attach(
            actor=users["manager"], record=records["internal_agreement"], upload=upload_file
        )
    monkeypatch.undo()
    assert not fresh().exists() and not stored_files(var_dir)


def test_the_service_refuses_who_may_not_attach(var_dir, users, records):
    with pytest.raises(PermissionDenied):
        attachments.attach(
            actor=users["finance"],
            record=records["internal_agreement"],
            upload=SimpleUploadedFile("a.pdf", PDF),
        )
    assert not stored_files(var_dir)


def test_file_names_are_sanitized_and_active_content_is_only_downloaded(
    fresh, var_dir, users, web_for, records
):
    name = "../../etc/pass wd<script>.html"
    response = upload(
        web_for(users["manager"]),
        "agreement",
        records["internal_agreement"],
        name=name,
        content=b"<script>alert(1)</script>",
    )
    assert response.status_code == 302
    attachment = fresh().get()
    assert "/" not in attachment.filename and "<" not in attachment.filename
    assert attachment.filename.endswith(".html")
    [path] = stored_files(var_dir)
    assert path.resolve().is_relative_to((var_dir / "attachments").resolve())
    download = web_for(users["internal"]).get(reverse("web:attachment", args=[attachment.pk]))
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("name", ["", "...", "/", "\x00\x01"])
def test_a_name_with_nothing_usable_is_refused(name):
    with pytest.raises(DomainError):
        attachments.clean_filename(name)


def test_a_long_name_keeps_its_extension():
    cleaned = attachments.clean_filename("a" * 400 + ".pdf")
    assert len(cleaned) == attachments.MAX_NAME and cleaned.endswith(".pdf")


def test_anonymous_visitors_are_sent_to_sign_in(fresh, var_dir, client, users, records):
    upload(client, "agreement", records["internal_agreement"])  # not signed in
    assert not fresh().exists()
    response = client.get(reverse("web:attachment", args=[1]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_file_gone_from_storage_answers_404(fresh, var_dir, users, web_for, records):
    upload(web_for(users["manager"]), "agreement", records["internal_agreement"])
    attachment = fresh().get()
    attachments.storage.delete(attachment.file.name)
    response = web_for(users["manager"]).get(reverse("web:attachment", args=[attachment.pk]))
    assert response.status_code == 404


def test_every_kind_is_declared_by_its_app():
    assert set(attachments.kinds()) == {"agreement", "due-diligence", "specification", "change"}


def test_the_demo_has_signed_copies_seen_only_by_their_customer(users, web_for):
    marketing = Agreement.objects.get(reference="SLA-MKT-2026")
    [signed] = attachments.attachments_of(marketing)
    url = reverse("web:attachment", args=[signed.pk])
    assert web_for(users["internal"]).get(url).status_code == 200
    assert web_for(users["external"]).get(url).status_code == 404
