"""What people see: templates, CSS and plain ES-module JavaScript, served by ``app``."""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

__all__ = ["STATIC_DIR", "TEMPLATES_DIR"]
