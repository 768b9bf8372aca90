"""Notifications and "My work": what waits for each user, and the messages that tell them.

Domain apps call :func:`servicebook.notifications.services.notify` when something needs a person;
each app offers the work waiting for a user through ``servicebook.ports.work_items``.
"""
