#!/usr/bin/env python3
"""Count the lines of the nabla example programs and their PyTorch twins with one rule.

    python3 scripts/count_lines.py            # the table of docs/porting-from-pytorch.md
    python3 scripts/count_lines.py FILE...    # counts of the given .c / .py files

Rule, the same for C and Python:
  code     non-blank lines that hold something besides comments: C's /* */ and // comments and
           Python's # comments and docstrings do not count, nor do blank lines. Each program
           file is counted alone: the shared helpers (examples/common/*.c, bench/twins/images.py)
           are not part of either count.
  no CLI   code minus the command-line handling: in C every statement that names the course's
           option machinery (the ex_program PROG block with its --help text, the ex_opt table,
           ex_parse_args and its EX_ARGS_ result check, the range checks returning
           ex_usage_error, #include "common/cli.h"); in Python the parse_args function and the
           statements that use argparse. Defaults written in C declarations (int steps = 600,
           ...) stay counted; Python's live in the argparse calls and so leave.
"""
import ast
import io
import os
import re
import sys
import tokenize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = ["gpt_chars", "resnet_fashion", "vae", "gan", "seq2seq_attention"]
C_CLI = re.compile(r"\bex_program\b|\bex_opt\b|\bex_parse_args\b|\bEX_ARGS_|\bex_usage_error\b"
                   r'|#include "common/cli\.h"')
PY_CLI = re.compile(r"\bargparse\b|\bparse_args\b|add_argument")


def strip_c_comments(text):
    """text with comments blanked (newlines kept), string and char literals left alone."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(c if c == "\n" else " " for c in text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text[i] in "\"'":
            j = i + 1
            while j < n and text[j] != text[i]:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def c_statements(lines):
    """Group code lines (index lists) into statements: a group ends at a line ending in ';',
    '{' or '}' outside parentheses and outside an initialiser's braces."""
    groups, cur, parens, init = [], [], 0, 0
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        cur.append(i)
        code = re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'', '""', s)
        for k, c in enumerate(code):
            if c == "(":
                parens += 1
            elif c == ")":
                parens -= 1
            elif c == "{" and (init or re.search(r"=\s*$|\($|,\s*$|\)\{$", code[:k])
                               or re.search(r"=\s*$", code[:k].rstrip())):
                init += 1
            elif c == "}" and init:
                init -= 1
        if s.startswith("#") or (parens == 0 and init == 0 and s[-1] in ";{}"):
            groups.append(cur)
            cur = []
    if cur:
        groups.append(cur)
    return groups


def count_c(path):
    lines = strip_c_comments(open(path).read()).split("\n")
    code = [i for i, line in enumerate(lines) if line.strip()]
    cli = {i for g in c_statements(lines) if C_CLI.search("\n".join(lines[j] for j in g))
           for i in g}
    return len(code), len([i for i in code if i not in cli])


def count_py(path):
    text = open(path).read()
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                            tokenize.DEDENT, tokenize.ENDMARKER):
            lines.update(range(tok.start[0], tok.end[0] + 1))
    cli = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            lines -= set(range(body[0].lineno, body[0].end_lineno + 1))  # docstring
        if isinstance(node, ast.FunctionDef) and node.name == "parse_args" or \
                isinstance(node, ast.stmt) and not hasattr(node, "body") and \
                PY_CLI.search(ast.get_source_segment(text, node) or ""):
            cli.update(range(node.lineno, node.end_lineno + 1))
    return len(lines), len(lines - cli)


def count(path):
    return count_c(path) if path.endswith(".c") else count_py(path)


def main():
    if len(sys.argv) > 1:
        for path in sys.argv[1:]:
            print("%-50s code %4d  no CLI %4d" % ((path,) + count(path)))
        return
    print("| program | nabla lines | PyTorch lines | ratio | nabla lines, no CLI "
          "| PyTorch lines, no CLI | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in PROGRAMS:
        c = count(os.path.join(ROOT, "examples", name + ".c"))
        p = count(os.path.join(ROOT, "bench", "twins", name + ".py"))
        print("| `%s` | %d | %d | %.2f | %d | %d | %.2f |"
              % (name, c[0], p[0], c[0] / p[0], c[1], p[1], c[1] / p[1]))


if __name__ == "__main__":
    main()
