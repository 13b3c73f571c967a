"""The cost shape of each hook's traced path, read from disassembly, and
the shape each variant declares in its own file (FE_SHAPE in fe_<id>.c,
CLAIM_<id>_SHAPE in claim_<id>.h).  tests/test_shape.py holds the
userland build (build/hooks.dis) and the module (kcovbench.ko) to it.

A path's cost is counted on the hook's control-flow graph with its back
edges removed: the most per-CPU loads (%fs in userland, %gs in the
kernel), locked read-modify-writes, direct calls and indirect calls any
path from entry to exit can take.  The traced path is the one that passes
every check and records, so it is the maximum.  For trace_switch the
per-case cost is the same maximum over the body of its case loop (the
back edge spanning the most code)."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METRICS = ("percpu", "lock", "calls", "indirect")
HOOK = re.compile(r"^[0-9a-f]+ <(kcb_(\w+?)__(\w+?)__(trace_\w+|impl_\w+))>:$")
INSN = re.compile(r"^\s+([0-9a-f]+):\s+(.*)$")
RELOC = re.compile(r"^\s+[0-9a-f]+: R_X86_64_\w+\s+(\S+)")
TARGET = re.compile(r"^(j\w+|call)\s+([0-9a-f]+)\b")
# segment-override and branch-hint prefixes (retpoline call sites, CET)
PREFIX = re.compile(r"^(?:(?:cs|ds|notrack|bnd)\s+)+")
# kernel helpers that are not calls on the traced path's cost
NOT_CALLS = ("__x86_return_thunk", "__fentry__")


def functions(text, pattern=HOOK):
    """{hook symbol: [(addr, insn text, reloc symbol or None)]} from
    `objdump -d[r]` output, for the symbols pattern matches."""
    out, cur = {}, None
    for line in text.splitlines():
        m = pattern.match(line.strip()) if line and not line[0].isspace() else None
        if m:
            cur = out.setdefault(m.group(1), [])
            continue
        if line and not line[0].isspace():
            cur = None
            continue
        if cur is None:
            continue
        r = RELOC.match(line)
        if r and cur:
            a, t, _ = cur[-1]
            cur[-1] = (a, t, r.group(1))
            continue
        m = INSN.match(line)
        if m and not line.lstrip().startswith(";;"):
            ins = PREFIX.sub("", m.group(2).split("\t")[-1].strip())
            if ins and not ins.startswith(("nop", "xchg   %ax,%ax", "data16", "cs nop", "int3")):
                cur.append((int(m.group(1), 16), ins, None))
    return out


def cost(ins, reloc, seg):
    """The metrics one instruction adds."""
    op = ins.split()[0] if ins.split() else ""
    c = dict.fromkeys(METRICS, 0)
    if "%" + seg + ":" in ins:
        c["percpu"] = 1
    if op == "lock" or (op == "xchg" and "(" in ins):
        c["lock"] = 1
    if op in ("call", "jmp"):
        if "*" in ins or (reloc and reloc.startswith("__x86_indirect_thunk")):
            c["indirect"] = 1
        elif op == "call" and not (reloc and reloc.startswith(NOT_CALLS)):
            c["calls"] = 1
    return c


def graph(insns):
    """Successor lists by index; an edge leaving the function is an exit."""
    idx = {a: i for i, (a, _, _) in enumerate(insns)}
    succ = []
    for i, (a, ins, reloc) in enumerate(insns):
        op = ins.split()[0]
        nxt = [i + 1] if i + 1 < len(insns) else []
        m = TARGET.match(ins)
        tgt = idx.get(int(m.group(2), 16)) if m and not reloc else None
        if op == "ret" or (op == "jmp" and ("*" in ins or reloc)):
            succ.append([])
        elif op == "jmp":
            succ.append([tgt] if tgt is not None else [])
        elif op.startswith("j"):
            succ.append(nxt + ([tgt] if tgt is not None else []))
        else:
            succ.append(nxt)
    return succ


def _max_path(insns, succ, start, stop, inside, seg, costf=None):
    """Per metric, the most any acyclic path from start reaches (up to and
    including stop, or an exit), staying inside."""
    state, order, back = {}, [], set()

    def dfs(u):
        stack = [(u, iter(succ[u]))]
        state[u] = 1
        while stack:
            v, it = stack[-1]
            w = next(it, None)
            if w is None:
                state[v] = 2
                order.append(v)
                stack.pop()
                continue
            if not inside(w) or (stop is not None and v == stop):
                continue
            if state.get(w) == 1:
                back.add((v, w))
            elif w not in state:
                state[w] = 1
                stack.append((w, iter(succ[w])))
    dfs(start)
    best = {}
    for v in order:                         # reverse topological: successors first
        here = (costf or cost)(insns[v][1], insns[v][2], seg)
        tails = [best[w] for w in succ[v] if inside(w) and (v, w) not in back and w in best
                 and not (stop is not None and v == stop)]
        tail = {k: max([t[k] for t in tails] or [0]) for k in here}
        best[v] = {k: here[k] + tail[k] for k in here}
    return best[start]


def _back_edges(succ):
    """Edges to an instruction still on the DFS stack from the entry: the
    loops (a backward jump to a merge point is not one)."""
    state, back = {0: 1}, set()
    stack = [(0, iter(succ[0]))] if succ else []
    while stack:
        v, it = stack[-1]
        w = next(it, None)
        if w is None:
            state[v] = 2
            stack.pop()
        elif state.get(w) == 1:
            back.add((v, w))
        elif w not in state:
            state[w] = 1
            stack.append((w, iter(succ[w])))
    return back


def _natural_loop(succ, u, w):
    """The loop of back edge u -> w: w and every instruction that reaches u
    without passing through w."""
    pred = {}
    for a, ws in enumerate(succ):
        for b in ws:
            pred.setdefault(b, []).append(a)
    body, todo = {w, u}, [u]
    while todo:
        x = todo.pop()
        for p in pred.get(x, []):
            if p not in body:
                body.add(p)
                todo.append(p)
    return body


def shape(insns, seg, costf=None):
    """{"path": metrics of the whole hook, "case": metrics of one trip
    round its largest loop, or None}."""
    succ = graph(insns)
    out = {"path": _max_path(insns, succ, 0, None, lambda i: True, seg, costf), "case": None}
    loops = [(u, w, _natural_loop(succ, u, w)) for u, w in _back_edges(succ)]
    if loops:
        u, w, body = max(loops, key=lambda e: len(e[2]))
        out["case"] = _max_path(insns, succ, w, u, lambda i: i in body, seg, costf)
    return out


ANY = re.compile(r"^[0-9a-f]+ <([\w.]+)>:$")
CALLEE = re.compile(r"^(?:call|jmp)\s+[0-9a-f]+ <([\w.]+)>$")
# Out-of-line slow paths: the chunk claim's refill (once per chunk of
# records), the unique mode's guard set-up (once per guard, ever) and Jiao's
# unique mode's entry allocation (once per new PC): one
# call on the traced path, not costed whole; their cost shows in timings.
SLOW_PATH = re.compile(r"^(claim_\w+_refill|kcb_guard_init|kcb_uniq_alloc)(\.\w+)?$")


def shapes(text, seg, pattern=HOOK, extra=None):
    """{symbol pattern matches: shape}.  A direct call or tail jump to
    another function of the same object (the linux front end's impl_cmp,
    kcov.o's write_comp_data) adds that function's traced-path cost, so a
    hook is costed whole; extra(ins) may add metrics of its own."""
    funcs = functions(text, ANY)
    memo = {}

    def costf(ins, reloc, seg):
        c = cost(ins, reloc, seg)
        if extra:
            c.update(extra(ins))
        m = CALLEE.match(ins)
        target = re.sub(r"[-+]0x[0-9a-f]+$", "", reloc) if reloc else m and m.group(1)
        if (m or ins.startswith(("call", "jmp"))) and target in funcs and \
                not SLOW_PATH.match(target):
            callee = whole(target)["path"]
            c = {k: c[k] + callee.get(k, 0) for k in c}
        return c

    def whole(name):
        if name not in memo:
            memo[name] = {"path": {}, "case": None}      # recursion guard
            memo[name] = shape(funcs[name], seg, costf)
        return memo[name]

    names = [n for n in funcs if pattern.match("0 <%s>:" % n)]
    return {n: whole(n) for n in names}, {n: funcs[n] for n in names}


def _decl(text, name):
    m = re.search(r'#define\s+%s\s+"([^"]*)"' % re.escape(name), text)
    if not m:
        return None
    return dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1)))


def declarations():
    """({front end id: FE_SHAPE}, {claim id: CLAIM_<id>_SHAPE}, {pair id:
    (pc claim, cmp claim)}), from the variant files themselves."""
    vdir = os.path.join(ROOT, "variants")
    fes, claims = {}, {}
    for f in sorted(os.listdir(vdir)):
        text = open(os.path.join(vdir, f)).read()
        if f.startswith("fe_") and f.endswith(".c"):
            fes[f[3:-2]] = _decl(text, "FE_SHAPE")
        elif f.startswith("claim_") and f.endswith(".h") and f != "claims.h":
            # one file may hold a claim and its broken twin
            for cid in re.findall(r"#define\s+CLAIM_(\w+)_SHAREABLE", text):
                claims[cid] = _decl(text, "CLAIM_%s_SHAPE" % cid)
    # the pairs every build has: not realprog's KCB_FE_ONLY list
    text = open(os.path.join(vdir, "claims.h")).read()
    text = text.split("#else", 1)[1] if "#ifdef KCB_FE_ONLY" in text else text
    pairs = dict((p, (pc, cmp)) for p, pc, cmp in re.findall(
        r"X\((\w+),\s*\"[^\"]*\",\s*(\w+),\s*(\w+),", text))
    return fes, claims, pairs


def expected(fe, pc_claim, cmp_claim, hook, rt=False):
    """What the declarations promise for one hook: {"path": {...} or None,
    "case": {...} or None}.  percpu and indirect are exact counts; lock and
    calls are 0/1, "the traced path has one or more" (a compiler may
    duplicate a retry loop's CAS, and no path runs both copies).

    FE_SHAPE keys: percpu, indirect (a trace_* hook's lookup and calls);
    rt_percpu (percpu on the PREEMPT_RT kernel, where they differ);
    guard_calls (trace_pc_guard's call to give a guard its index);
    pc_calls (trace_pc's call to Jiao's unique mode's entry allocator);
    tracer_percpu (FreeBSD's impl_* tracers, reached indirectly);
    case_percpu, case_indirect, case_calls (per case of trace_switch;
    rt_case_percpu on PREEMPT_RT where it differs); switch_percpu,
    rt_switch_percpu (trace_switch's lookup where it is not the others').
    CLAIM_*_SHAPE keys: atomic, calls (0 or 1, per record)."""
    cmp = hook not in ("trace_pc", "impl_pc", "trace_pc_guard")
    claim = cmp_claim if cmp else pc_claim
    rec = {"lock": claim.get("atomic", 0), "calls": claim.get("calls", 0)}
    none = {"lock": 0, "calls": 0}
    indirect_fe = fe.get("indirect", 0) > 0
    percpu = fe.get("rt_percpu", fe.get("percpu", 0)) if rt else fe.get("percpu", 0)
    if hook in ("trace_pc", "impl_pc"):
        rec["calls"] = max(rec["calls"], fe.get("pc_calls", 0))
    if hook.startswith("impl_"):
        # FreeBSD's tracers; the other front ends build the same functions
        # and their hooks inline them, so they cost what a hook does
        return {"path": dict(rec, percpu=fe.get("tracer_percpu", 0) if indirect_fe
                             else percpu, indirect=0), "case": None}
    if indirect_fe:
        path = dict(none, percpu=percpu, indirect=fe["indirect"])
    else:
        path = dict(rec, percpu=percpu, indirect=0)
    case = None
    if hook == "trace_pc_guard":
        # the unique mode: a guard's first call gives it an index
        path["calls"] = max(path["calls"], fe.get("guard_calls", 0))
    if hook == "trace_switch" and "switch_percpu" in fe:
        path["percpu"] = fe.get("rt_switch_percpu", fe["switch_percpu"]) if rt \
            else fe["switch_percpu"]
    if hook == "trace_switch":
        # the whole path is one trip round the cases: the lookup, merged
        # with the first case's loads, costs what a hook's does
        case = dict(none if indirect_fe else rec, percpu=fe.get(
            "rt_case_percpu", fe.get("case_percpu", 0)) if rt else fe.get("case_percpu", 0),
            indirect=fe.get("case_indirect", 0))
        case["calls"] = max(case["calls"], fe.get("case_calls", 0))
        path["calls"] = max(path["calls"], fe.get("case_calls", 0))
    return {"path": path, "case": case}


def check(text, seg, fes, claims, pairs, rt=False, skip_pairs=()):
    """[problem] for every hook in the disassembly that departs from its
    declarations, and for every variant without one."""
    problems = []
    for fe, d in fes.items():
        if d is None:
            problems.append("variants/fe_%s.c declares no FE_SHAPE: add e.g. "
                            '#define FE_SHAPE "percpu=2 case_percpu=1" (see tests/shape.py)' % fe)
    for c, d in claims.items():
        if d is None:
            problems.append("variants/claim_%s.h declares no CLAIM_%s_SHAPE: add e.g. "
                            '#define CLAIM_%s_SHAPE "atomic=0 calls=0"' % (c, c, c))
    if problems:
        return problems, 0
    got_all, funcs = shapes(text, seg)
    if not funcs:
        return ["no hook found in the disassembly"], 0
    checked = 0
    for name, insns in sorted(funcs.items()):
        m = HOOK.match("0 <%s>:" % name)
        fe, pair, hook = m.group(2), m.group(3), m.group(4)
        if pair in skip_pairs:
            continue
        if fe not in fes or pair not in pairs:
            problems.append("%s: front end %s or pair %s unknown" % (name, fe, pair))
            continue
        want = expected(fes[fe], claims[pairs[pair][0]], claims[pairs[pair][1]], hook, rt)
        got = got_all[name]
        checked += 1
        for part in ("path", "case"):
            w, g = want[part], got[part]
            if w is None:
                continue
            if g is None:
                problems.append("%s: no case loop found" % name)
                continue
            for k in METRICS:
                have = g[k] if k in ("percpu", "indirect") else min(g[k], 1)
                if have != w[k]:
                    problems.append("%s: %s %s %d, declared %d" % (name, part, k, g[k], w[k]))
    return problems, checked
