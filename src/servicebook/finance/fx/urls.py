"""The exchange rates page (mounted by ``finance.urls`` under the ``finance`` namespace)."""

from django.urls import path

from servicebook.finance.fx import views

urlpatterns = [path("rates/", views.RatesView.as_view(), name="rates")]
