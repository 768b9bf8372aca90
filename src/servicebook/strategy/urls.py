from django.urls import path

from servicebook.strategy import views

app_name = "strategy"

urlpatterns = [
    path("", views.ObjectiveListView.as_view(), name="list"),
    path("<int:pk>/", views.ObjectiveDetailView.as_view(), name="detail"),
    path("<int:pk>/measure/", views.MeasureCreateView.as_view(), name="measure-create"),
    path(
        "outcomes/<int:pk>/measure/",
        views.OutcomeMeasureCreateView.as_view(),
        name="outcome-measure-create",
    ),
    path("measures/<int:pk>/reading/", views.ReadingCreateView.as_view(), name="reading"),
    path("import/", views.ReadingImportView.as_view(), name="import"),
]
