"""The closed loop seen from the reporter: their flags, and the replies they have not read."""
