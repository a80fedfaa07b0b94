#!/usr/bin/env python3
"""promcheck.py - strict check of the Prometheus text exposition format
(0.0.4) as hostctl and htstat write it. Every sample must belong to a family
announced by # HELP and # TYPE before its first sample; a family's lines are
one block; names, label names, escapes and values follow the format; no
series twice. --dump prints each sample as: name TAB labels-as-JSON TAB value.
Exit 0 when the whole input is valid, 1 with the first bad line otherwise."""
import json
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
VALUE = re.compile(r'^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)$')
TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')


class Bad(Exception):
    pass


def unescape(s, allowed):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == '\\':
            if i + 1 >= len(s) or s[i + 1] not in allowed:
                raise Bad('bad escape in %r' % s)
            out.append({'\\': '\\', '"': '"', 'n': '\n'}[s[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def labels(s, i):
    """Parse {a="b",...} from s[i] == '{'; returns (dict, index after '}')."""
    res, i = {}, i + 1
    while True:
        if s[i:i + 1] == '}':
            return res, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise Bad('bad label name')
        name, i = m.group(0), m.end()
        if name.startswith('__'):
            raise Bad('reserved label name %s' % name)
        if s[i:i + 2] != '="':
            raise Bad('label %s without ="' % name)
        i += 2
        j = i
        while j < len(s) and s[j] != '"':
            if s[j] == '\\':
                j += 1
            j += 1
        if j >= len(s):
            raise Bad('unterminated label value')
        if name in res:
            raise Bad('label %s twice' % name)
        res[name] = unescape(s[i:j], '\\"n')
        i = j + 1
        if s[i:i + 1] == ',':
            i += 1
        elif s[i:i + 1] != '}':
            raise Bad('expected , or } after a label')


def family_of(name, types):
    for suf in ('_bucket', '_count', '_sum'):
        base = name[:-len(suf)]
        if name.endswith(suf) and types.get(base) in ('histogram', 'summary'):
            return base
    return name


def check(text, dump):
    if text and not text.endswith('\n'):
        raise Bad('last line without a newline')
    helps, types, done, seen, current = {}, {}, set(), set(), None
    for n, line in enumerate(text.split('\n')[:-1], 1):
        try:
            if line.startswith('#'):
                p = line.split(' ', 3)
                if len(p) >= 3 and p[0] == '#' and p[1] in ('HELP', 'TYPE'):
                    name = p[2]
                    if not NAME.fullmatch(name):
                        raise Bad('bad metric name %r' % name)
                    if name in done or (current and current != name and name in helps.keys() | types.keys()):
                        raise Bad('family %s is not one block' % name)
                    if current and current != name:
                        done.add(current)
                    current = name
                    what = p[3] if len(p) > 3 else ''
                    table = helps if p[1] == 'HELP' else types
                    if name in table:
                        raise Bad('second # %s for %s' % (p[1], name))
                    if p[1] == 'TYPE' and what not in TYPES:
                        raise Bad('unknown type %r' % what)
                    if p[1] == 'TYPE' and any(s[0] == name for s in seen):
                        raise Bad('# TYPE after samples of %s' % name)
                    table[name] = unescape(what, '\\n') if p[1] == 'HELP' else what
                continue
            if not line.strip():
                raise Bad('empty line')
            m = NAME.match(line)
            if not m:
                raise Bad('bad metric name')
            name, i = m.group(0), m.end()
            lab = {}
            if line[i:i + 1] == '{':
                lab, i = labels(line, i)
            rest = line[i:]
            if not rest.startswith(' '):
                raise Bad('no space before the value')
            parts = rest[1:].split(' ')
            if len(parts) not in (1, 2) or not VALUE.match(parts[0]) or (len(parts) == 2 and not re.fullmatch(r'-?\d+', parts[1])):
                raise Bad('bad value or timestamp %r' % rest)
            fam = family_of(name, types)
            if fam not in helps or fam not in types:
                raise Bad('sample of %s without # HELP and # TYPE first' % fam)
            if fam != current:
                raise Bad('sample of %s outside its family block' % fam)
            if types[fam] == 'counter' and not name.endswith('_total'):
                raise Bad('counter %s not named *_total' % name)
            key = (name, tuple(sorted(lab.items())))
            if key in seen:
                raise Bad('series %s%s twice' % (name, lab))
            seen.add(key)
            if dump:
                print('%s\t%s\t%s' % (name, json.dumps(lab, sort_keys=True), parts[0]))
        except Bad as e:
            raise Bad('line %d: %s: %r' % (n, e, line))
    if not seen:
        raise Bad('no samples')


def main():
    args = sys.argv[1:]
    dump = '--dump' in args
    files = [a for a in args if a != '--dump']
    raw = open(files[0], 'rb').read() if files else sys.stdin.buffer.read()
    try:
        check(raw.decode('utf-8'), dump)
    except (Bad, UnicodeDecodeError) as e:
        print('promcheck: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
