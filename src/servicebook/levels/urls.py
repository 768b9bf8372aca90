from django.urls import path

from servicebook.levels import views
from servicebook.levels.selfservice import views as views_portal
from servicebook.levels.uploads import views as uploads

app_name = "levels"

urlpatterns = [
    path("", views.ServiceLevelListView.as_view(), name="list"),
    path("<int:pk>/", views.AgreementLevelsView.as_view(), name="agreement"),
    path("<int:pk>/recompute/", views.RecomputeView.as_view(), name="recompute"),
    path("<int:pk>/tickets/", views.TicketListView.as_view(), name="tickets"),
    path("tickets/<int:pk>/", views.TicketClockView.as_view(), name="ticket"),
    path("import/", uploads.TicketImportView.as_view(), name="import-tickets"),
    path("import/outages/", uploads.OutageImportView.as_view(), name="import-outages"),
    path("outages/", views.OutageListView.as_view(), name="outages"),
    path("outages/new/", views.OutageCreateView.as_view(), name="outage-create"),
    path("outages/<int:pk>/end/", views.OutageEndView.as_view(), name="outage-end"),
    # customer self-service (issue 15)
    path("my-tickets/", views_portal.MyTicketsView.as_view(), name="my-tickets"),
    path("my-tickets/new/", views_portal.RaiseTicketView.as_view(), name="raise-ticket"),
    path("my-tickets/<int:pk>/", views_portal.PortalTicketView.as_view(), name="portal-ticket"),
    path("my-tickets/<int:pk>/comment/", views_portal.CommentView.as_view(), name="ticket-comment"),
    path("my-tickets/<int:pk>/step/", views_portal.StepView.as_view(), name="ticket-step"),
]
