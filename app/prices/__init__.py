"""The organization's own price list: loaded by an admin, ahead of the reference prices."""
