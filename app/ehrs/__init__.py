"""The EHRs allowed to launch ValueLoop: their registrations, keys and client secrets."""
