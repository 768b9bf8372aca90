"""Billing's pages: periods and their close, receivables, statements and invoices with their
exports, payments, reminders, reports and the FOCUS export (mounted by ``finance.urls`` under
the ``finance`` namespace)."""

from django.urls import path

from servicebook.finance.billing import views

urlpatterns = [
    path("", views.FinanceHomeView.as_view(), name="home"),
    path("close/", views.CloseView.as_view(), name="close"),
    path("documents/", views.DocumentListView.as_view(), name="documents"),
    path("invoices/", views.InvoiceListView.as_view(), name="invoices"),
    path("statements/", views.StatementListView.as_view(), name="statements"),
    path("payments/", views.PaymentListView.as_view(), name="payments"),
    path("statements/<int:pk>/", views.StatementDetailView.as_view(), name="statement"),
    path("statements/<int:pk>/csv/", views.StatementCsvView.as_view(), name="statement-csv"),
    path("statements/<int:pk>/pdf/", views.StatementPdfView.as_view(), name="statement-pdf"),
    path("invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice"),
    path("invoices/<int:pk>/csv/", views.InvoiceCsvView.as_view(), name="invoice-csv"),
    path("invoices/<int:pk>/pdf/", views.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("invoices/<int:pk>/ubl/", views.InvoiceUblView.as_view(), name="invoice-ubl"),
    path("invoices/<int:pk>/facturx/", views.InvoiceFacturxView.as_view(), name="invoice-facturx"),
    path("invoices/<int:pk>/payment/", views.PaymentView.as_view(), name="invoice-payment"),
    path("invoices/<int:pk>/suspend/", views.SuspendView.as_view(), name="invoice-suspend"),
    path(
        "invoices/<int:pk>/credit-note/",
        views.CreditNoteView.as_view(),
        name="invoice-credit-note",
    ),
    path("credit-notes/<int:pk>/", views.CreditNoteDetailView.as_view(), name="credit-note"),
    path("credit-notes/<int:pk>/ubl/", views.CreditNoteUblView.as_view(), name="credit-note-ubl"),
    path(
        "credit-notes/<int:pk>/facturx/",
        views.CreditNoteFacturxView.as_view(),
        name="credit-note-facturx",
    ),
    path("tax-rates/", views.TaxRatesView.as_view(), name="tax-rates"),
    path("reminders/", views.RemindersView.as_view(), name="reminders"),
    path("reports/", views.ReportsView.as_view(), name="reports"),
    path("reports/<slug:name>.csv", views.ReportCsvView.as_view(), name="report-csv"),
    path("focus-export/", views.FocusExportView.as_view(), name="focus-export"),
]
