"""A tiny, deterministic YAML writer for vector files (stdlib only).

Strings are always double-quoted (JSON escaping is valid YAML), so hex like
"00" or "1e5" can never be read back as a number.
"""
import json

FLOW_LIMIT = 96


def _scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    raise TypeError(f"unsupported scalar {v!r}")


def _flow(v):
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    return _scalar(v)


def _emit(v, indent, out):
    pad = "  " * indent
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x and len(_flow(x)) + len(pad) + len(k) > FLOW_LIMIT:
                out.append(f"{pad}{k}:")
                _emit(x, indent + 1, out)
            else:
                out.append(f"{pad}{k}: {_flow(x)}")
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, dict) and x:
                inner = []
                _emit(x, indent + 1, inner)
                first = inner[0].lstrip()
                out.append(f"{pad}- {first}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}- {_flow(x)}")
    else:
        out.append(pad + _scalar(v))


def dump(doc, header_comment=""):
    out = []
    for line in header_comment.strip().splitlines():
        out.append(f"# {line}".rstrip())
    _emit(doc, 0, out)
    return "\n".join(out) + "\n"
