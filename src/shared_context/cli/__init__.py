"""The ``scs`` command line."""
