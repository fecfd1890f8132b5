"""Email notifications: who gets which email (planning), what it says (without PHI), how it
is sent (SMTP with aiosmtplib), and how a person stops one kind of email (signed unsubscribe
links, RFC 8058 one-click). docs/notifications.md is the operator's view.
"""
