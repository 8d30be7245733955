"""The one exception type for mistakes a user can fix (bad files, paths, settings)."""


class LitDigitsError(Exception):
    """A user-facing error: the message says what was wrong and what to do.

    The command line prints it as one line and exits with status 1, without a traceback.
    """
