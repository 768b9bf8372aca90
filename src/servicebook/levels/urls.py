from django.urls import path

from servicebook.levels import views

app_name = "levels"

urlpatterns = [
    path("", views.ServiceLevelListView.as_view(), name="list"),
    path("<int:pk>/", views.AgreementLevelsView.as_view(), name="agreement"),
    path("<int:pk>/recompute/", views.RecomputeView.as_view(), name="recompute"),
    path("<int:pk>/tickets/", views.TicketListView.as_view(), name="tickets"),
    path("tickets/<int:pk>/", views.TicketClockView.as_view(), name="ticket"),
]
