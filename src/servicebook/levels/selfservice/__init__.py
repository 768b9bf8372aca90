"""Customer self-service of tickets (issue 15): services, pages and API of portal tickets."""
