"""The CLI's pieces below ``depwatch.cli``: the shared arguments, the screen, the progress line,
and the bodies of the commands it registers (``rules``, ``baseline``, ``packages``)."""
