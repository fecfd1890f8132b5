"""The quality team's dashboard pages. Staff sign in through app.staff; every figure and
action on the pages goes through the same REST API that other clients use."""
