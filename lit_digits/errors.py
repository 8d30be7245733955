"""The one exception type for mistakes a user can fix (bad files, paths, settings)."""


class LitDigitsError(Exception):
    """A user-facing error: the message says what was wrong and what to do.

    The command line prints it as one line and exits with status 1, without a traceback.
    """


def cause_of(err: BaseException, kind: type | tuple[type, ...]) -> BaseException | None:
    """The first exception of type ``kind`` among ``err`` and its causes, if any (jsonargparse
    and Lightning wrap what a class raised while it was built)."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, kind):
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None
