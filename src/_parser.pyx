"""Placeholder: the pure-Python response parser twin lands here (docs/parser.md)."""


class ResponseHead:  # replaced by the real twin
    pass


class MessageEnd:  # replaced by the real twin
    pass


class ResponseParser:  # replaced by the real twin
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("the Python parser twin is not written yet")
