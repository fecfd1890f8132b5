"""The low-value rule catalog (``lowvalue/``) as the app uses it, in one place for the CDS
Hooks service and the in-EHR page: history read from the EHR, the registry reason a rule
stands for, and what a flag records of a rule that agreed with it."""
