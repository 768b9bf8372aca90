"""The finance app's REST API: the routes of its packages (ledger, costing, usage, billing),
offered to the router through ``servicebook.ports.api_routes`` by ``FinanceConfig.ready()``."""

from servicebook.finance.billing import api as billing
from servicebook.finance.billing import legal_api
from servicebook.finance.costing import api as costing
from servicebook.finance.fx import api as fx
from servicebook.finance.ledger import api as ledger
from servicebook.finance.usage import api as usage

ROUTES = [
    *ledger.ROUTES,
    *fx.ROUTES,
    *costing.ROUTES,
    *usage.ROUTES,
    *billing.ROUTES,
    *legal_api.ROUTES,
]
