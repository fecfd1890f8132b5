"""Notifications that close the loop: one outbox of deliveries (email, signed webhooks),
written in the same transaction as the event that causes them and drained by workers."""
