"""The display-filter conformance table: reading conformance.tsv and expected.tsv, and
frame sets written as ranges ("1-3,7")."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def read_table(path=os.path.join(HERE, "conformance.tsv")):
    """[(filter, filter given to tshark)] in file order."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            ours, _, theirs = line.partition("\t")
            rows.append((ours, theirs or ours))
    return rows


def ranges(frames):
    out, start, prev = [], None, None
    for n in frames:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else str(start))
    return ",".join(out) or "-"


def frames_of(text):
    if text == "-":
        return []
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def read_expected(path=os.path.join(HERE, "expected.tsv")):
    """{filter: [frames]} and the packet count of the capture they were made from."""
    exp, packets = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# packets "):
                packets = int(line.split()[2])
            if not line or line.startswith("#"):
                continue
            ours, count, frames = line.split("\t")
            exp[ours] = frames_of(frames)
            assert len(exp[ours]) == int(count), ours
    return exp, packets
