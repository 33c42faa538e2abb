"""Placeholder: the pure-Python response writer twin lands here (docs/parser.md)."""






class StreamWriter:  # replaced by the real twin
    def __init__(self, *args, **kwargs):
        raise NotImplementedError("the Python writer twin is not written yet")
