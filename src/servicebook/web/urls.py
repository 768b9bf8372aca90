from django.urls import path

from servicebook.web import attachments, firstrun, glossary, jobs, search, views
from servicebook.web.masterdata_views import MasterDataImportView

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("import/", MasterDataImportView.as_view(), name="import-master"),
    path("search/", search.search, name="search"),
    path("setup/", firstrun.first_run, name="first-run"),
    path("glossary/", glossary.glossary, name="glossary"),
    path("jobs/", jobs.JobListView.as_view(), name="jobs"),
    path("jobs/<int:pk>/", jobs.JobDetailView.as_view(), name="job"),
    path("jobs/<int:pk>/progress/", jobs.JobProgressView.as_view(), name="job-progress"),
    path("jobs/<int:pk>/rejects/", jobs.JobRejectsView.as_view(), name="job-rejects"),
    path("jobs/<int:pk>/retry/", jobs.JobRetryView.as_view(), name="job-retry"),
    # attached files: one download route, one upload route per kind of record (issue 18)
    *attachments.urlpatterns(),
]
