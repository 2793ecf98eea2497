"""Reminders: rules (data) planned into the store's queue, and a dispatcher that pushes them once.

Application status notices (kind "status") go through the same queue, so they share its
guarantees: nothing lost over a restart, nothing sent twice, nothing sent at night.
"""
