"""A griffe extension for the API reference (mkdocs.yml: ``extensions``): Sphinx markup as Markdown.

skadapt's docstrings follow scikit-learn's numpydoc conventions, written for
``help()`` and Sphinx. mkdocstrings renders docstrings as Markdown, so this
extension, run once the package is loaded, converts what Markdown would show
as raw reST:

* Sphinx roles (``:func:`x```, ``:class:`~a.B```) become inline code;
* reST literal blocks (``text::`` + an indented block) become fenced Python
  blocks, and reST simple tables (``===  ===`` rules) become Markdown tables.

Only the rendering changes: the docstrings in the source stay as they are.
"""

import inspect
import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|data|mod|attr|obj|exc|const)[^:`]*:`(~?)([^`]+)`")
_RULE = re.compile(r"^(\s*)(=+)((?: +=+)+)\s*$")
# "name : type" lines of numpydoc sections: their type is shown verbatim.
_ITEM = re.compile(r"^\s*[\w(*][\w, ()*]* : \S")


def _target(match):
    target = match.group(2)
    return target.rsplit(".", 1)[-1] if match.group(1) else target


def _roles(line):
    if _ITEM.match(line):
        return _ROLE.sub(_target, line).replace("``", "")
    return _ROLE.sub(lambda m: f"`{_target(m)}`", line)


def _table(lines, start):
    """Convert the reST simple table at ``lines[start]``; return (markdown lines, end)."""
    rule = lines[start]
    indent = len(rule) - len(rule.lstrip())
    starts = [m.start() for m in re.finditer(r"=+", rule)]
    rows, rules, i = [], [], start + 1
    while i < len(lines):
        if _RULE.match(lines[i]):
            rules.append(len(rows))
            if len(rules) == 2 or (len(rules) == 1 and len(rows) > 1):
                break
        elif lines[i].strip():
            bounds = starts + [None]
            rows.append([lines[i][bounds[k]:bounds[k + 1]].strip() for k in range(len(starts))])
        i += 1
    pad = " " * indent
    if rules and rules[0] == 1 and len(rows) > 1:  # a header row
        head, body = rows[0], rows[1:]
        out = [pad + "| " + " | ".join(head) + " |", pad + "|" + "---|" * len(head)]
        out += [pad + "| " + " | ".join(row) + " |" for row in body]
    else:  # no header: a list of "first cell: the others"
        out = [pad + f"* **{row[0]}**: " + " — ".join(c for c in row[1:] if c) for row in rows]
    return ["", *out, ""], i + 1


def to_markdown(text):
    """Sphinx roles, literal blocks and simple tables of one docstring, as Markdown."""
    lines, out, i = [_roles(line) for line in text.splitlines()], [], 0
    while i < len(lines):
        line = lines[i]
        if _RULE.match(line):
            converted, i = _table(lines, i)
            out += converted
            continue
        if line.rstrip().endswith("::"):
            indent = len(line) - len(line.lstrip())
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            block = []
            while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent):
                block.append(lines[j])
                j += 1
            if block:
                head = line.rstrip()[:-2].rstrip()
                if head.strip():
                    out.append(head + ":")
                while block and not block[-1].strip():
                    block.pop()
                code = inspect.cleandoc("\n".join(block)).splitlines()
                pad = " " * indent
                out += ["", pad + "```python", *(pad + c if c else "" for c in code), pad + "```", ""]
                i = j
                continue
        out.append(line)
        i += 1
    return "\n".join(out)


class SphinxMarkup(griffe.Extension):
    """Every docstring of the package, its Sphinx markup turned into Markdown."""

    def __init__(self):
        super().__init__()
        self._done = set()

    def on_package(self, *, pkg, loader, **kwargs):
        if pkg.path in self._done:
            return
        self._done.add(pkg.path)
        seen = set()
        stack = [pkg]
        while stack:
            obj = stack.pop()
            if obj.is_alias or id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = to_markdown(obj.docstring.value)
            stack.extend(m for m in obj.members.values() if not m.is_alias)

    # The same event under its griffe 1.x name.
    on_package_loaded = on_package
