from django.urls import path

from servicebook.levels import views
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
]
