"""The ledger's pages (mounted by ``finance.urls`` under the ``finance`` namespace)."""

from django.urls import path

from servicebook.finance.ledger import views

urlpatterns = [
    path("ledger/", views.LedgerView.as_view(), name="ledger"),
    path("ledger/entries/", views.JournalEntryListView.as_view(), name="ledger-entries"),
    path("ledger/adjust/", views.AdjustmentView.as_view(), name="ledger-adjust"),
    path("ledger/entries/<int:pk>/", views.ReverseEntryView.as_view(), name="ledger-entry"),
    path("ledger/journal.csv", views.JournalCsvView.as_view(), name="journal-csv"),
]
