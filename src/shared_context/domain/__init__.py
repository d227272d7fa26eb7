"""Rules of the product: models, errors, visibility, permissions, identifiers and time."""
