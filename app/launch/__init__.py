"""SMART launch glue: registered EHRs, pending launches, app sessions, clinician API."""
