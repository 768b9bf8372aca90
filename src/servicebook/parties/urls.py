from django.urls import path

from servicebook.parties import views

app_name = "parties"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("new/", views.CustomerCreateView.as_view(), name="create"),
    path("mine/", views.MyCustomersView.as_view(), name="mine"),
    path("provider-settings/", views.ProviderSettingsView.as_view(), name="provider-settings"),
    path("contacts/", views.ContactListView.as_view(), name="contacts"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="edit"),
    path("<int:pk>/status/", views.CustomerStatusView.as_view(), name="status"),
    path("<int:pk>/contacts/new/", views.ContactCreateView.as_view(), name="contact-create"),
    path("<int:pk>/due-diligence/start/", views.StartDueDiligenceView.as_view(), name="dd-start"),
    path("<int:pk>/due-diligence/check/", views.RecordCheckView.as_view(), name="dd-check"),
    path(
        "<int:pk>/due-diligence/conclude/",
        views.ConcludeDueDiligenceView.as_view(),
        name="dd-conclude",
    ),
    path("<int:pk>/due-diligence/waive/", views.WaiveDueDiligenceView.as_view(), name="dd-waive"),
    path("<int:pk>/commitments/new/", views.CommitmentCreateView.as_view(), name="commitment"),
    path("<int:pk>/feedback/new/", views.FeedbackCreateView.as_view(), name="feedback"),
    path("feedback/<int:pk>/", views.FeedbackDetailView.as_view(), name="feedback-detail"),
    path("feedback/<int:pk>/answer/", views.AnswerComplaintView.as_view(), name="feedback-answer"),
    path("funding/", views.FundingReportView.as_view(), name="funding"),
    path("<int:pk>/difficulty/", views.DifficultyView.as_view(), name="difficulty"),
]
