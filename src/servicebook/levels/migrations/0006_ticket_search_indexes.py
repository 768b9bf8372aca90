# The ticket search box and the ticket list's search read every ticket on PostgreSQL (issue 14):
# a GIN index on the words the search box matches and trigram indexes for `contains`.

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from servicebook.core.search import SearchIndexes


class Migration(migrations.Migration):
    dependencies = [
        ("levels", "0005_ticket_portal_indexes"),
    ]

    operations = [
        TrigramExtension(),
        SearchIndexes(
            model_name="ticket",
            name="ticket_search",
            vector=("number", "short_description", "category"),
            contains=("number", "short_description", "category", "assignment_group"),
        ),
    ]
