"""``servicebook import master`` and the upload page: the organization's own customers,
contacts, services and offerings from CSV, through the same services as the forms."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from servicebook.catalog.models import Offering, Service
from servicebook.core.masterdata import FileRefused
from servicebook.parties.models import Contact, Customer, CustomerEvent
from servicebook.web import masterdata
from tests.cli_databases import copy_sqlite

SAMPLES = Path(__file__).resolve().parents[1] / "docs" / "samples"
ORDER = ("customers", "contacts", "services", "offerings")
PAGE = "web:import-master"


def run(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "servicebook.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def reconciles(summary: dict) -> bool:
    return summary["rows_read"] == summary["created"] + summary["updated"] + summary["rejected"]


# --- the command, on an empty database after servicebook init ------------------------------------


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, cli_templates):
    """A provider set up with ``servicebook init`` on a migrated SQLite database with nothing in
    it (a copy of the run's: tests/cli_databases.py)."""
    var = copy_sqlite(cli_templates, "migrated", tmp_path_factory.mktemp("master"))
    secret = var / "password.txt"
    secret.write_text("correct horse battery staple\n", encoding="utf-8")
    env = {**os.environ, "DEBUG": "1", "SERVICEBOOK_VAR_DIR": str(var), "DATABASE_URL": ""}
    done = run(
        *("init", "--provider", "Acme IT", "--sector", "commercial", "--currency", "EUR"),
        *("--country", "FR", "--admin-user", "ada", "--admin-email", "ada@acme.example"),
        *("--admin-password-file", str(secret), "--no-input"),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return env, var


def load(kind: str, path, env, *extra) -> dict:
    done = run("import", "master", str(path), "--kind", kind, "--json", *extra, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_samples_load_into_an_empty_database_then_a_rerun_changes_nothing(fresh):
    env, _ = fresh
    expected = {}
    for kind in ORDER:
        rows = len((SAMPLES / f"{kind}.csv").read_text(encoding="utf-8").splitlines()) - 1
        dry = load(kind, SAMPLES / f"{kind}.csv", env, "--dry-run")
        real = load(kind, SAMPLES / f"{kind}.csv", env)
        assert dry["dry_run"] and not real["dry_run"]
        counts = (real["created"], real["rejected"])
        assert (dry["created"], dry["rejected"]) == counts == (rows, 0), real["rejects"]
        assert reconciles(real) and reconciles(dry)
        expected[kind] = rows
    for kind in ORDER:
        again = load(kind, SAMPLES / f"{kind}.csv", env)
        assert (again["created"], again["rejected"]) == (0, 0)
        assert again["updated"] == again["unchanged"] == expected[kind]
    text = run("import", "master", str(SAMPLES / "services.csv"), "--kind", "services", env=env)
    assert text.returncode == 0
    assert "Read 3 services rows: 0 created, 3 updated (3 already up to date), 0 rejected." in (
        text.stdout
    )


def test_a_dry_run_writes_nothing_and_counts_the_same(fresh, tmp_path):
    env, _ = fresh
    path = tmp_path / "more.csv"
    path.write_text(
        "code,name,kind,business_unit,cost_centre,funding_model\n"
        "legal,Legal,internal,Corporate,CC-9,showback\n"
        "legal2,Legal,internal,Corporate,CC-9,showback\n",
        encoding="utf-8",
    )
    dry = load("customers", path, env, "--dry-run")
    assert (dry["rows_read"], dry["created"], dry["rejected"]) == (2, 1, 1)
    assert dry["rejects"] == [
        {"row": 2, "field": "name", "reason": "customer legal already has this name"}
    ]  # the first row, checked in the same transaction, makes the second a clash
    real = load("customers", path, env)
    assert {k: real[k] for k in ("created", "updated", "rejected")} == {
        k: dry[k] for k in ("created", "updated", "rejected")
    }
    assert load("customers", path, env)["unchanged"] == 1


def test_an_unusable_file_exits_2_naming_the_columns(fresh, tmp_path):
    env, _ = fresh
    path = tmp_path / "wrong.csv"
    path.write_text("code,title,colour\nx,y,z\n", encoding="utf-8")
    done = run("import", "master", str(path), "--kind", "customers", env=env)
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("servicebook import master: customers file refused: ")
    assert "missing column(s) name, kind" in line
    assert "unknown column(s) 'title', 'colour'" in line
    missing = run("import", "master", str(tmp_path / "none.csv"), "--kind", "services", env=env)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_rejects_are_written_with_row_field_and_reason(fresh, tmp_path):
    env, _ = fresh
    load("customers", SAMPLES / "customers.csv", env)  # hr (already there after the first test)
    path = tmp_path / "contacts.csv"
    path.write_text(
        "customer,email,name,is_approver,authority_limit\n"
        "hr,new.person@example.org,New Person,no,\n"
        "nobody,a@example.org,A,no,\n"
        "hr,b@example.org,B,yes,\n"
        "hr,c@example.org,=HYPERLINK(1),perhaps,\n",
        encoding="utf-8",
    )
    summary = load("contacts", path, env)
    assert (summary["created"], summary["rejected"]) == (1, 3) and reconciles(summary)
    assert summary["rejects"] == [
        {"row": 2, "field": "customer", "reason": "no customer has the code 'nobody'"},
        {"row": 3, "field": "authority_limit", "reason": "an approver needs an authority limit"},
        {
            "row": 4,
            "field": "is_approver",
            "reason": "'perhaps' is not yes or no (true/false, 1/0 also work)",
        },
    ]
    lines = Path(summary["rejects_path"]).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "row,field,reason,customer,email,name,is_approver,authority_limit"
    assert lines[3].startswith("4,is_approver,") and "'=HYPERLINK(1)" in lines[3]


# --- the import itself, in the demo database ----------------------------------------------------


def load_text(kind, text, *, actor=None, dry_run=False):
    return masterdata.import_file(actor=actor, kind=kind, data=text, dry_run=dry_run)[1]


def test_updates_go_through_the_services(db):
    hr = Customer.objects.get(code="hr")
    result = load_text("customers", f'code,name,kind,cost_centre\nhr,"{hr.name}",internal,CC-NEW\n')
    assert (result.updated, result.unchanged, result.rejected) == (1, 0, 0)
    hr.refresh_from_db()
    assert hr.cost_centre == "CC-NEW"
    event = CustomerEvent.objects.filter(customer=hr, action="updated").latest("pk")
    assert "cost_centre" in event.note


def test_the_relationship_owner_is_named_by_user_name(db):
    hr = Customer.objects.get(code="hr")
    head = "code,name,kind,relationship_owner\n"
    result = load_text(
        "customers", head + f'hr,"{hr.name}",internal,manager\nx1,X,internal,nobody-here\n'
    )
    assert (result.updated, result.rejected) == (1, 1)
    assert result.rejects[0].as_dict() == {
        "row": 2,
        "field": "relationship_owner",
        "reason": "no user is named 'nobody-here'",
    }
    hr.refresh_from_db()
    assert hr.relationship_owner.username == "manager"
    refused = load_text("customers", head + f'hr,"{hr.name}",internal,external\n')
    assert refused.rejects[0].field == "relationship_owner"
    assert "only provider staff" in refused.rejects[0].reason
    cleared = load_text("customers", head + f'hr,"{hr.name}",internal,\n')
    assert (cleared.updated, cleared.unchanged) == (1, 0)
    hr.refresh_from_db()
    assert hr.relationship_owner is None


def test_a_refused_row_leaves_no_partial_write(db):
    """create_offering saves the offering, then refuses its tiers: the row's savepoint rolls
    the offering back, and the valid row after it is loaded."""
    service = Service.objects.order_by("pk").first()
    text = (
        "service,code,name,unit,list_price,currency,charge_model,tiers\n"
        f"{service.code},tiered-x,Tiered,hour,10,EUR,graduated,\n"
        f"{service.code},tiered-y,Tiered,hour,10,EUR,graduated,0:10;50:8\n"
        f"{service.code},tiered-z,Tiered,hour,10,EUR,graduated,5:10\n"
    )
    result = load_text("offerings", text)
    assert (result.rows_read, result.created, result.rejected) == (3, 1, 2)
    assert [(r.row, r.field) for r in result.rejects] == [(1, "tiers"), (3, "tiers")]
    assert not Offering.objects.filter(code__in=["tiered-x", "tiered-z"]).exists()
    offering = Offering.objects.get(code="tiered-y")
    assert [(t.lower_bound, t.unit_price) for t in offering.tiers.all()] == [
        (Decimal("0"), Decimal("10")),
        (Decimal("50"), Decimal("8")),
    ]
    again = load_text("offerings", text)
    assert (again.created, again.unchanged, again.rejected) == (0, 1, 2)


def test_keys_and_locked_fields(db):
    hr = Customer.objects.get(code="hr")
    offering = Offering.objects.select_related("service").first()
    other = Service.objects.exclude(pk=offering.service_id).first()
    result = load_text("customers", f'code,name,kind\nhr,"{hr.name}",external\n')
    assert [(r.field, r.reason) for r in result.rejects] == [
        ("kind", "cannot be changed after creation")
    ]
    moved = load_text(
        "offerings",
        "service,code,name,unit,list_price,currency\n"
        f'{other.code},{offering.code},"{offering.name}",{offering.unit},1,EUR\n',
    )
    assert moved.rejects[0].field == "service" and "does not move" in moved.rejects[0].reason
    contact = Contact.objects.filter(customer=hr).exclude(email="").first()
    same = load_text(
        "contacts",
        f'customer,email,name\nhr,{contact.email.upper()},"{contact.name}"\n'
        f'hr,{contact.email},"{contact.name}"\n',
    )
    assert (same.updated, same.unchanged, same.rejected) == (1, 1, 1)
    assert same.rejects[0].reason == "the same customer and email as row 1"


def test_header_names_are_read_without_case_or_spaces(db):
    result = load_text(
        "services",
        "\ufeff Code ,NAME,Status,\nmd-test,Master data test,Pipeline,\nmd-bad,,live,\n",
    )
    assert (result.created, result.rejected) == (1, 1)
    assert Service.objects.get(code="md-test").status == "pipeline"
    columns, result = masterdata.import_file(
        actor=None, kind="services", data=" Code ,NAME\nmd-x,\n"
    )
    assert masterdata.rejects_csv(result, columns).splitlines() == [
        "row,field,reason, Code ,NAME",
        "1,name,This field cannot be blank.,md-x,",
    ]


def test_a_file_that_is_not_csv_or_empty_is_refused(db):
    with pytest.raises(FileRefused, match="not UTF-8"):
        masterdata.import_file(actor=None, kind="services", data=b"\xff\xfe\x00bad")
    with pytest.raises(FileRefused, match="empty"):
        masterdata.import_file(actor=None, kind="services", data="")
    with pytest.raises(FileRefused, match="unknown kind"):
        masterdata.import_file(actor=None, kind="agreements", data="code\n")


# --- the page ----------------------------------------------------------------------------------


def upload(client, kind, text, **extra):
    file = SimpleUploadedFile("data.csv", text.encode(), content_type="text/csv")
    return client.post(reverse(PAGE), {"kind": kind, "file": file, **extra})


def test_the_page_loads_a_file_and_shows_counts_and_rejects(users, web_for):
    client = web_for(users["manager"])
    page = client.get(reverse(PAGE) + "?kind=services")
    body = page.content.decode()
    assert page.status_code == 200
    assert '<label class="form-label" for="id_file">CSV file</label>' in body
    assert '<label class="form-label" for="id_kind">What the file holds</label>' in body
    text = (
        "code,name,kind,business_unit,cost_centre,funding_model\n"
        "legal,Legal,internal,Corporate,CC-9,showback\n"
        "bad,,internal,Corporate,CC-9,showback\n"
    )
    checked = upload(client, "customers", text, dry_run="on")
    assert 'data-testid="count-created">1<' in checked.content.decode()
    assert not Customer.objects.filter(code="legal").exists()
    response = upload(client, "customers", text)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="count-read">2<' in body and 'data-testid="count-rejected">1<' in body
    assert 'data-testid="rejects-table"' in body and "This field cannot be blank." in body
    assert 'download="data-rejects.csv"' in body
    assert Customer.objects.filter(code="legal").exists()


def test_the_page_refuses_an_unusable_file_on_the_form(users, web_for):
    response = upload(web_for(users["admin"]), "services", "colour\nred\n")
    body = response.content.decode()
    assert response.status_code == 200
    assert "missing column(s) code, name" in body and "import-master-result" not in body


def test_finance_may_load_offerings_only(users, web_for):
    client = web_for(users["finance"])
    body = client.get(reverse(PAGE)).content.decode()
    assert '<option value="offerings"' in body and '<option value="customers"' not in body
    refused = upload(client, "customers", "code,name,kind\nx,X,internal\n")
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert not Customer.objects.filter(code="x").exists()


@pytest.mark.parametrize("who", ["internal", "external", "change", None])
def test_customers_others_and_anonymous_cannot_use_the_page(users, client, who):
    if who is not None:
        client.force_login(users[who])
    for response in (
        client.get(reverse(PAGE)),
        upload(client, "customers", "code,name,kind\nx,X,internal\n"),
    ):
        if who is None:
            assert response.status_code == 302 and "login" in response["Location"]
        else:
            assert response.status_code == 403
    assert not Customer.objects.filter(code="x").exists()


def test_the_customer_and_catalog_lists_link_to_the_page(users, web_for):
    client = web_for(users["manager"])
    for name, kind in (("parties:list", "customers"), ("catalog:list", "services")):
        body = client.get(reverse(name)).content.decode()
        assert f'href="{reverse(PAGE)}?kind={kind}"' in body


def test_the_page_refuses_a_file_longer_than_it_loads_while_you_wait(client, users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from servicebook.web.masterdata_views import MAX_ROWS

    rows = "".join(f"c{n},Customer {n},internal\n" for n in range(MAX_ROWS + 5))
    client.force_login(users["admin"])
    response = client.post(
        "/import/",
        {
            "kind": "customers",
            "file": SimpleUploadedFile("big.csv", ("code,name,kind\n" + rows).encode()),
        },
    )
    assert response.status_code == 200
    assert "servicebook import master" in " ".join(response.context["form"].errors["file"])


def test_a_row_cut_short_by_an_unclosed_quote_is_a_reject_not_an_error(client, users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(users["admin"])
    bad = b'code,name,kind\n"zz4,unterminated,internal\n'
    response = client.post(
        "/import/", {"kind": "customers", "file": SimpleUploadedFile("bad.csv", bad)}
    )
    assert response.status_code == 200
    assert "unclosed quote" in response.content.decode()
