from django.urls import path

from servicebook.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.ServiceListView.as_view(), name="list"),
    path("new/", views.ServiceCreateView.as_view(), name="create"),
    path("<int:pk>/", views.ServiceDetailView.as_view(), name="detail"),
    path("<int:pk>/offerings/new/", views.OfferingCreateView.as_view(), name="offering-create"),
    path(
        "<int:pk>/specifications/new/", views.SpecificationCreateView.as_view(), name="spec-create"
    ),
    path("<int:pk>/sign-off/", views.SignOffView.as_view(), name="sign-off"),
    path("<int:pk>/status/", views.ServiceStatusView.as_view(), name="status"),
]
