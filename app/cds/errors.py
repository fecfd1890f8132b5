"""What can go wrong with a CDS Hooks call (problem+json through app/errors.py).

AppError
├── NotFound (404)
│   └── UnknownService          no CDS service with that id
└── UnprocessableContent (422)
    └── UnusableHookRequest     the request cannot be judged (shape, hook, FHIR server)
"""

from __future__ import annotations

from app.errors import NotFound, UnprocessableContent


class UnknownService(NotFound):
    slug = "unknown-cds-service"
    title = "No such CDS service"


class UnusableHookRequest(UnprocessableContent):
    slug = "unusable-hook-request"
    title = "The hook request cannot be judged"
