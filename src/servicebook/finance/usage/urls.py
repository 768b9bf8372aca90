"""The usage pages (mounted by ``finance.urls`` under the ``finance`` namespace)."""

from django.urls import path

from servicebook.finance.usage import views

urlpatterns = [
    path("usage/", views.UsageView.as_view(), name="usage"),
    path("usage/<int:pk>/", views.UsageImportDetailView.as_view(), name="usage-import"),
    path("usage/<int:pk>/rejects.csv", views.UsageRejectsView.as_view(), name="usage-rejects"),
    path("usage/mappings/", views.CloudMappingsView.as_view(), name="cloud-mappings"),
]
