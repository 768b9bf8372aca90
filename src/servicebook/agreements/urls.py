from django.urls import path

from servicebook.agreements import views

app_name = "agreements"

urlpatterns = [
    path("", views.AgreementListView.as_view(), name="list"),
    path("new/", views.AgreementCreateView.as_view(), name="create"),
    path("<int:pk>/", views.AgreementDetailView.as_view(), name="detail"),
    path("<int:pk>/lines/new/", views.LineCreateView.as_view(), name="line-create"),
    path("<int:pk>/status/", views.AgreementStatusView.as_view(), name="status"),
]
