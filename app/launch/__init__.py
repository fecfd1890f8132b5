"""The SMART launch: /launch and its callback, launches in flight, app sessions."""
