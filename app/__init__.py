"""ValueLoop: clinicians flag low-value care inside the EHR; quality teams close the loop."""
