# The search box read every ticket on SQLite (issue 14: half a second at a million tickets): an
# FTS5 trigram index of the fields it matches, kept by triggers (PostgreSQL has 0006's indexes).

from django.db import migrations

from servicebook.core.search import SQLiteTextIndex


class Migration(migrations.Migration):
    dependencies = [
        ("levels", "0006_ticket_search_indexes"),
    ]

    operations = [
        SQLiteTextIndex(
            model_name="ticket",
            name="levels_ticket_text",
            fields=("number", "short_description", "category"),
        ),
    ]
