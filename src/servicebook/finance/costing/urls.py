"""The costs page (mounted by ``finance.urls`` under the ``finance`` namespace)."""

from django.urls import path

from servicebook.finance.costing import views

urlpatterns = [
    path("costs/", views.CostsView.as_view(), name="costs"),
]
