from django.urls import path

from servicebook.parties import views

app_name = "parties"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("new/", views.CustomerCreateView.as_view(), name="create"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="edit"),
    path("<int:pk>/status/", views.CustomerStatusView.as_view(), name="status"),
    path("<int:pk>/contacts/new/", views.ContactCreateView.as_view(), name="contact-create"),
]
