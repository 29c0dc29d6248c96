"""depwatch: what in your lockfile is about to hurt you, and what to do about it.

The Python API is not public; the command line, its exit codes and the JSON schema are.
"""

__version__ = "0.1.0"
