from django.urls import path

from servicebook.demand import views

app_name = "demand"

urlpatterns = [
    path("", views.DemandListView.as_view(), name="list"),
    path("new/", views.DemandCreateView.as_view(), name="create"),
    path("capacity/", views.CapacityView.as_view(), name="capacity"),
    path("<int:pk>/", views.DemandDetailView.as_view(), name="detail"),
    path("<int:pk>/<slug:step>/", views.DemandStepView.as_view(), name="step"),
]
