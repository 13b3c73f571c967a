"""One table, three renderings.  A table is a header and rows of strings;
the first column labels the row, the others hold numbers (right-aligned)."""
import csv
import io
import textwrap

WIDTH = 72      # a patch mail's line
GAP = 2
MIN_LABEL = 12  # narrowest label column worth keeping beside the numbers


def wrap(text, width=WIDTH):
    """Prose lines for a text table's head, each at most width columns."""
    return [w for line in text.splitlines()
            for w in (textwrap.wrap(line, width, break_on_hyphens=False,
                                    subsequent_indent="  ") or [""])]


def txt(header, rows, width=WIDTH):
    """Plain text no wider than width.  Data columns that do not fit are
    split into further blocks; a label too long for its column gets a line
    of its own above its numbers."""
    dw = [max(len(r[i]) for r in [header] + rows) for i in range(1, len(header))]
    lw_all = max(len(r[0]) for r in [header] + rows)
    blocks, cur, used = [], [], 0
    for i, w in enumerate(dw):
        if cur and MIN_LABEL + used + GAP + w > width:
            blocks.append(cur)
            cur, used = [], 0
        cur.append(i)
        used += GAP + w
    blocks.append(cur)

    out = []
    for cols in blocks:
        lw = min(lw_all, width - sum(GAP + dw[i] for i in cols))

        def line(label, row):
            return (label.ljust(lw) + "".join(
                " " * GAP + row[i + 1].rjust(dw[i]) for i in cols)).rstrip()
        if out:
            out.append("")
        for r in [header] + rows:
            if len(r[0]) > lw:
                out.extend(r[0][k:k + width] for k in range(0, len(r[0]), width))
                out.append(line("", r))
            else:
                out.append(line(r[0], r))
    return "\n".join(out) + "\n"


def md(header, rows):
    def line(r):
        return "| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"
    sep = "|---|" + "---:|" * (len(header) - 1)
    return "\n".join([line(header), sep] + [line(r) for r in rows]) + "\n"


def csv_text(header, rows):
    f = io.StringIO()
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return f.getvalue()
