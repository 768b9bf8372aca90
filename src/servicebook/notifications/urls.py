from django.urls import path

from servicebook.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.MyWorkView.as_view(), name="my-work"),
    path("count/", views.CountView.as_view(), name="count"),
    path("read/", views.MarkReadView.as_view(), name="mark-read"),
    path("settings/", views.SettingsView.as_view(), name="settings"),
]
