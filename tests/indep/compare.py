#!/usr/bin/python3
"""Compare `f8 exec` (the C functional model) against the independent Python model.

    compare.py --f8 build/f8 --cases N --seed S [--keep DIR] [--jobs J] [--only I] [--start I]

For each generated case (tests/indep/gen.py) the stream and regions are written to a temporary
directory and run with `f8 exec` (docs/runner.md); the exit status, the error code and
descriptor index, every byte of every region and the counters line are compared with
tests/indep/f8indep.py. The first mismatch is reported in detail (and the case saved under
--keep DIR) and the run stops with exit status 1. Last line: `indep: P passed, F failed`.
"""
import argparse
import concurrent.futures as cf
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, HERE)
import f8indep as m  # noqa: E402
import gen  # noqa: E402

COUNTERS = ('cycles', 'stall', 'macs', 'rd', 'wr', 'descs')
RE_COUNTERS = re.compile(r'cycles=(\d+)\s+stall=(\d+)\s+macs=(\d+)\s+rd=(\d+)\s+wr=(\d+)'
                         r'\s+descs=(\d+)')
RE_DONE = re.compile(r'f8 exec:\s*DONE\b')
RE_ERROR = re.compile(r'f8 exec:\s*ERROR\s+(\d+)(?:\s+(\w+))?(.*)')
RE_INDEX = re.compile(r'(?:at\s+)?descriptor\s+(-?(?:0x)?[0-9a-fA-F]+)')


def parse_stderr(text):
    """-> (status or None, counters dict or None, problems list)."""
    status, counters, problems = None, None, []
    for line in text.splitlines():
        mm = RE_ERROR.search(line)
        if mm:
            code = int(mm.group(1))
            name = mm.group(2)
            rest = mm.group(3)
            mi = RE_INDEX.search(rest)
            if mi:
                v = mi.group(1)
                idx = int(v, 0) if v.startswith(('0x', '-')) or not v.isdigit() else int(v)
                idx &= 0xFFFFFFFF
            elif re.search(r'header', rest, re.I):
                idx = m.HEADER_INDEX
            else:
                idx = None
                problems.append('cannot parse the descriptor index in %r' % line)
            if name is not None and m.ERR_NAMES.get(code) != name:
                problems.append('error name %r does not match code %d (%s)' % (
                    name, code, m.ERR_NAMES.get(code)))
            status = ('ERROR', code, idx)
        elif RE_DONE.search(line):
            status = 'DONE'
        mc = RE_COUNTERS.search(line)
        if mc:
            counters = dict(zip(COUNTERS, (int(x) for x in mc.groups())))
    return status, counters, problems


def fmt_status(s):
    if s == 'DONE':
        return 'DONE'
    if s is None:
        return 'none'
    code, idx = s[1], s[2]
    return 'ERROR %s %s at descriptor %s' % (code, m.ERR_NAMES.get(code, '?'),
                                             'header(0xffffffff)' if idx == m.HEADER_INDEX
                                             else idx)


def run_case(f8, seed, i):
    """Returns (i, ok, report, note)."""
    try:
        return run_case1(f8, seed, i)
    except Exception:  # noqa: BLE001 - a generator/model crash is a failure of this case
        import traceback
        return i, False, 'CRASH in case %d (seed %d) of the Python side:\n%s' % (
            i, seed, traceback.format_exc()), ''


def run_case1(f8, seed, i):
    case = gen.make_case(seed, i)
    exp_status, exp_mem, exp_cnt = m.run(case.stream, case.regions, case.rows, case.cols,
                                         case.bw, case.latency)
    tmp = tempfile.mkdtemp(prefix='f8indep.')
    try:
        args = gen.write_case(case, tmp)
        cmd = [f8, 'exec'] + args
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            rc, err = p.returncode, p.stderr.decode('utf-8', 'replace')
            out = p.stdout.decode('utf-8', 'replace')
        except subprocess.TimeoutExpired:
            rc, err, out = None, 'timeout after 120 s', ''
        problems = []
        exp_rc = 0 if exp_status == 'DONE' else 2
        act_status, act_cnt, pp = parse_stderr(err)
        problems += pp
        if rc != exp_rc:
            problems.append('exit status %s, expected %d' % (rc, exp_rc))
        if act_status != exp_status:
            problems.append('status: f8 says %s, model expects %s' % (
                fmt_status(act_status), fmt_status(exp_status)))
        if act_cnt is None:
            problems.append('no counters line on stderr')
        else:
            for k in COUNTERS:
                if act_cnt[k] != exp_cnt[k]:
                    problems.append('counter %s: f8 %d, model %d (diff %+d)' % (
                        k, act_cnt[k], exp_cnt[k], act_cnt[k] - exp_cnt[k]))
        if rc in (0, 2):
            for r in sorted(case.regions):
                path = os.path.join(tmp, 'out%d.bin' % r)
                try:
                    with open(path, 'rb') as fh:
                        got = fh.read()
                except OSError as e:
                    problems.append('region %d: no output file (%s)' % (r, e))
                    continue
                exp = bytes(exp_mem[r])
                if got != exp:
                    if len(got) != len(exp):
                        problems.append('region %d: f8 wrote %d bytes, expected %d' % (
                            r, len(got), len(exp)))
                    diffs = [j for j in range(min(len(got), len(exp))) if got[j] != exp[j]]
                    if diffs:
                        j = diffs[0]
                        orig = case.regions[r]
                        problems.append(
                            'region %d: %d bytes differ, first at offset %d: f8 0x%02x, '
                            'model 0x%02x, original 0x%02x; f8 %s / model %s around it' % (
                                r, len(diffs), j, got[j], exp[j], orig[j],
                                got[max(0, j - 4):j + 8].hex(), exp[max(0, j - 4):j + 8].hex()))
                        problems.append('    %s' % locate(case.stream, r, j))
        if not problems:
            return i, True, '', case.note
        rep = ['MISMATCH in case %d (seed %d): %s' % (i, seed, case.note),
               'array %dx%d bw %d latency %d' % (case.rows, case.cols, case.bw, case.latency),
               m.describe_stream(case.stream),
               'regions: %s' % ', '.join('%d:%d bytes%s' % (r, len(v), ' (zero)'
                                                           if r in case.zero_regions else '')
                                        for r, v in sorted(case.regions.items())),
               'model: %s %s' % (fmt_status(exp_status),
                                 ' '.join('%s=%d' % (k, exp_cnt[k]) for k in COUNTERS)),
               'f8 exit %s, stderr:\n%s%s' % (rc, ''.join('    ' + l + '\n'
                                                         for l in err.splitlines()),
                                             ('stdout:\n' + out) if out.strip() else '')]
        rep += ['  * ' + x for x in problems]
        return i, False, '\n'.join(rep), case.note
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def save_case(f8, seed, i, keep, rep):
    """Write case i to keep/case_<seed>_<i>: stream, regions, run.sh, expected regions."""
    case = gen.make_case(seed, i)
    _, exp_mem, _ = m.run(case.stream, case.regions, case.rows, case.cols, case.bw,
                          case.latency)
    d = os.path.join(keep, 'case_%d_%d' % (seed, i))
    shutil.rmtree(d, ignore_errors=True)
    args = gen.write_case(case, d)
    for r in sorted(case.regions):
        with open(os.path.join(d, 'expected%d.bin' % r), 'wb') as fh:
            fh.write(bytes(exp_mem[r]))
    with open(os.path.join(d, 'run.sh'), 'w') as fh:
        fh.write('#!/bin/sh\n# %s\n%s exec %s\n' % (case.note, os.path.abspath(f8),
                                                    ' '.join(args)))
    os.chmod(os.path.join(d, 'run.sh'), 0o755)
    with open(os.path.join(d, 'report.txt'), 'w') as fh:
        fh.write(rep + '\n')
    return d


def locate(stream, region, off):
    """Which output element of which descriptor covers byte off of region."""
    stream = bytes(stream)
    if len(stream) < 32:
        return ''
    n = min(m.u32(stream, 12), (len(stream) - 32) // 256)
    hits = []
    for di in range(n):
        d = m.Desc(stream[32 + 256 * di:32 + 256 * (di + 1)])
        if d.opcode not in (2, 3, 4, 5):
            continue
        for name, t in (('dst0', d.dst0), ('dst1', d.dst1)):
            if t.is_zero() or t.region != region or t.type > 2:
                continue
            sz = m.TYPE_SIZE[t.type]
            for i in range(t.n):
                for y in range(t.h):
                    for x in range(t.w):
                        a = t.offset + i * t.stride_n + y * t.stride_h + x * t.stride_w
                        if a <= off < a + t.c * sz:
                            hits.append('desc %d %s element (n=%d,y=%d,x=%d,c=%d) byte %d' % (
                                di, name, i, y, x, (off - a) // sz, (off - a) % sz))
    return '; '.join(hits) if hits else 'byte is not inside any output element'


def main(argv):
    ap = argparse.ArgumentParser(description='f8 exec vs the independent Python model')
    ap.add_argument('--f8', required=True, help='path to the f8 tool')
    ap.add_argument('--cases', type=int, default=2000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--start', type=int, default=0, help='first case number')
    ap.add_argument('--only', type=int, help='run just this case number')
    ap.add_argument('--keep', help='save a failing case in this directory')
    ap.add_argument('--jobs', type=int, default=max(1, min(4, os.cpu_count() or 1)),
                    help='worker processes (default: CPUs, at most 4)')
    ap.add_argument('--all', action='store_true', help='do not stop at the first mismatch')
    a = ap.parse_args(argv)
    if not (os.path.isfile(a.f8) and os.access(a.f8, os.X_OK)):
        print('compare.py: %s is not an executable' % a.f8, file=sys.stderr)
        return 2
    f8 = os.path.abspath(a.f8)
    idx = [a.only] if a.only is not None else list(range(a.start, a.start + a.cases))
    passed = failed = 0
    done = 0
    with cf.ProcessPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        futs = [ex.submit(run_case, f8, a.seed, i) for i in idx]
        try:
            for fut in futs:          # in case order, so "first mismatch" is the lowest case
                i, ok, rep, note = fut.result()
                done += 1
                if ok:
                    passed += 1
                else:
                    failed += 1
                    print(rep, flush=True)
                    if a.keep:
                        d = save_case(f8, a.seed, i, a.keep, rep)
                        print('case saved in %s (run.sh; expected<R>.bin: the model\'s '
                              'regions)' % d, flush=True)
                    if not a.all:
                        for f in futs:
                            f.cancel()
                        break
                if done % 200 == 0:
                    print('indep: %d/%d cases, %d failed' % (done, len(idx), failed),
                          flush=True)
        except KeyboardInterrupt:
            for f in futs:
                f.cancel()
            raise
    print('indep: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
