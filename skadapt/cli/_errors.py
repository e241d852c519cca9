class UsageError(Exception):
    """A problem with the command's input: printed as one line on stderr, exit status 2."""
