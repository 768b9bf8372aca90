"""Exchange rates (decision 0025): the rates of each day and currency pair, imported from the
European Central Bank's reference rates or entered by finance, and the one lookup every package
uses to convert a document's amounts into the provider's base currency (``selectors.rate_on``).
The bottom of finance: it imports no other finance package."""
