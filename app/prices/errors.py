"""What can go wrong with the organization's price list.

AppError
├── UnprocessableContent (422)
│   └── PriceListInvalid        bad lines (each with line, column and why); nothing loaded
└── PriceListNotCsv (415)       the body is not text/csv (or not UTF-8 text)
"""

from __future__ import annotations

from app.errors import AppError, UnprocessableContent


class PriceListInvalid(UnprocessableContent):
    slug = "price-list-invalid"
    title = "The price list has problems; nothing was loaded"


class PriceListNotCsv(AppError):
    status = 415
    slug = "price-list-not-csv"
    title = "Send the price list as CSV"
