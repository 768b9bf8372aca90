"""Importing tickets and outages from the page (background jobs)."""
