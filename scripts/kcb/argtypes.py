"""Command-line value types shared by run, ab and kmod run: each argparse
type checks its input, so that a bad value fails before anything is built
or run."""
import argparse
import re

# The staging directory adds ".NAME.tmp-PID-XXXXXXXX" to the name; a file
# name holds 255 bytes.
MAX_NAME = 200


def items(kind, conv, ok, why):
    """An argparse type: a comma-separated list, each item converted and
    checked, so that bad input fails before anything is built or run."""
    def parse(text):
        out = []
        for item in filter(None, text.split(",")):
            try:
                v = conv(item)
            except ValueError:
                v = None
            if v is None or not ok(v):
                raise argparse.ArgumentTypeError("%s %r: %s" % (kind, item, why))
            out.append(v)
        return out
    return parse


def number(conv, kind, ok, why):
    def parse(text):
        try:
            v = conv(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%s %r is not a number" % (kind, text))
        if not ok(v):
            raise argparse.ArgumentTypeError("%s %r: %s" % (kind, text, why))
        return v
    return parse


def buffer_words(text):
    if text == "batch":
        return text
    try:
        v = int(text)
    except ValueError:
        v = 0
    if not 4097 <= v <= 1 << 24:
        raise argparse.ArgumentTypeError("buffer words %r: 4097 .. 16777216, or batch" % text)
    return str(v)


def result_name(text):
    """A results directory's name (--name)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]*", text):
        raise argparse.ArgumentTypeError(
            "name %r: use letters, digits and ._+- (no /, no leading dot)" % text)
    if len(text.encode()) > MAX_NAME:
        raise argparse.ArgumentTypeError("name of %d bytes: at most %d"
                                         % (len(text.encode()), MAX_NAME))
    return text


def flat(lists):
    """The values of a repeatable list option (nargs="+", action="extend"
    of lists): one list, None if the option was not given."""
    return None if lists is None else [x for sub in lists for x in sub]
