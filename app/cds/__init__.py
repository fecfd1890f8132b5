"""CDS Hooks (issue #15): the low-value rules served to the EHR. So far its command line."""
