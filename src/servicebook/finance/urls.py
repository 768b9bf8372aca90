"""The finance app's pages (namespace ``finance``): the pages of its packages."""

from servicebook.finance.billing import urls as billing
from servicebook.finance.costing import urls as costing
from servicebook.finance.fx import urls as fx
from servicebook.finance.ledger import urls as ledger
from servicebook.finance.usage import urls as usage

app_name = "finance"

urlpatterns = [
    *ledger.urlpatterns,
    *costing.urlpatterns,
    *fx.urlpatterns,
    *usage.urlpatterns,
    *billing.urlpatterns,
]
