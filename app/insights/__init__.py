"""Where low-value care concentrates: statistics, their CSV tables and SVG charts, exports."""
