"""The clinician API the in-EHR page calls, scoped to one launch."""
