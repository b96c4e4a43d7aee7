"""Small shared helpers: atomic file writes, safe weight loading, seeding, image I/O."""
