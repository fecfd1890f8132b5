"""SMART App Launch 2.x for ValueLoop: discovery, PKCE, state, token exchange and refresh.

Knows OAuth and SMART, nothing about flags; never imports ``app``, FastAPI or SQLModel.
Its modules arrive with the SMART launch work (see DESIGN.md, "The main flows").
"""
