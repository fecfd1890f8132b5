"""The flag workflow: a clinician's flag of low-value care and the quality team's work on it."""
