"""An async FHIR R4 client on httpx that returns ``fhir.resources.R4B`` models.

Knows FHIR REST, nothing about flags or OAuth beyond the bearer token it is given; never
imports ``app``. Its modules arrive with the SMART launch work (see DESIGN.md).
"""
