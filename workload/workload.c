/* SPDX-License-Identifier: MIT */
/*
 * workload.c - see workload.h.  Deliberately branchy, ordinary code: the
 * kind of control flow kcov instruments in a kernel.  Every part feeds the
 * checksum so the compiler can drop nothing.
 */
#include "workload.h"

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint8_t u8;

struct rng { u64 s; };

static u64 next(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

/* ---- a stack machine ---- */

enum op {
	OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER, OP_ADD, OP_SUB,
	OP_MUL, OP_DIV, OP_MOD, OP_AND, OP_OR, OP_XOR, OP_SHL, OP_SHR, OP_NOT,
	OP_EQ, OP_LT, OP_GT, OP_JMP, OP_JZ, OP_JNZ, OP_LOAD, OP_STORE, OP_INC,
	OP_DEC, OP_CALL, OP_RET, OP_MIN, OP_MAX, OP_ABS, OP_NEG, OP_ROT,
};

struct vm {
	u64 stack[64];
	u32 rstack[16];
	u64 mem[16];
	int sp, rsp;
	u64 steps;
};

static int push(struct vm *m, u64 v)
{
	if (m->sp >= 64)
		return -1;
	m->stack[m->sp++] = v;
	return 0;
}

static u64 pop(struct vm *m)
{
	return m->sp > 0 ? m->stack[--m->sp] : 0;
}

static u64 vm_run(struct vm *m, const u32 *code, u32 len, u64 budget)
{
	u32 pc = 0;
	u64 a, b;

	while (pc < len && m->steps < budget) {
		u32 insn = code[pc++];
		u32 op = insn & 0xff, arg = insn >> 8;

		m->steps++;
		switch (op) {
		case OP_HALT: return pop(m);
		case OP_PUSH: if (push(m, arg)) return ~0ull; break;
		case OP_POP: pop(m); break;
		case OP_DUP: a = pop(m); push(m, a); push(m, a); break;
		case OP_SWAP: a = pop(m); b = pop(m); push(m, a); push(m, b); break;
		case OP_OVER: a = pop(m); b = pop(m); push(m, b); push(m, a); push(m, b); break;
		case OP_ADD: a = pop(m); b = pop(m); push(m, b + a); break;
		case OP_SUB: a = pop(m); b = pop(m); push(m, b - a); break;
		case OP_MUL: a = pop(m); b = pop(m); push(m, b * a); break;
		case OP_DIV: a = pop(m); b = pop(m); push(m, a ? b / a : 0); break;
		case OP_MOD: a = pop(m); b = pop(m); push(m, a ? b % a : 0); break;
		case OP_AND: a = pop(m); b = pop(m); push(m, b & a); break;
		case OP_OR: a = pop(m); b = pop(m); push(m, b | a); break;
		case OP_XOR: a = pop(m); b = pop(m); push(m, b ^ a); break;
		case OP_SHL: a = pop(m); b = pop(m); push(m, b << (a & 63)); break;
		case OP_SHR: a = pop(m); b = pop(m); push(m, b >> (a & 63)); break;
		case OP_NOT: push(m, !pop(m)); break;
		case OP_EQ: a = pop(m); b = pop(m); push(m, b == a); break;
		case OP_LT: a = pop(m); b = pop(m); push(m, b < a); break;
		case OP_GT: a = pop(m); b = pop(m); push(m, b > a); break;
		case OP_JMP: pc = arg; break;
		case OP_JZ: if (!pop(m)) pc = arg; break;
		case OP_JNZ: if (pop(m)) pc = arg; break;
		case OP_LOAD: push(m, m->mem[arg & 15]); break;
		case OP_STORE: m->mem[arg & 15] = pop(m); break;
		case OP_INC: push(m, pop(m) + 1); break;
		case OP_DEC: push(m, pop(m) - 1); break;
		case OP_CALL:
			if (m->rsp >= 16)
				return ~0ull;
			m->rstack[m->rsp++] = pc;
			pc = arg;
			break;
		case OP_RET:
			if (m->rsp == 0)
				return pop(m);
			pc = m->rstack[--m->rsp];
			break;
		case OP_MIN: a = pop(m); b = pop(m); push(m, a < b ? a : b); break;
		case OP_MAX: a = pop(m); b = pop(m); push(m, a > b ? a : b); break;
		case OP_ABS: a = pop(m); push(m, (int64_t)a < 0 ? -a : a); break;
		case OP_NEG: push(m, -pop(m)); break;
		case OP_ROT:
			a = pop(m); b = pop(m);
			{ u64 c = pop(m); push(m, b); push(m, a); push(m, c); }
			break;
		default:
			return ~0ull;
		}
	}
	return pop(m);
}

#define I(op, arg) ((u32)(op) | ((u32)(arg) << 8))

/* sum of Collatz steps for 1..n-1 */
static const u32 prog_collatz[] = {
	I(OP_PUSH, 1), I(OP_STORE, 0),			/* i = 1 */
	I(OP_PUSH, 0), I(OP_STORE, 2),			/* total = 0 */
	/* 4: loop over i */
	I(OP_LOAD, 0), I(OP_LOAD, 3), I(OP_LT, 0), I(OP_JZ, 31),
	I(OP_LOAD, 0), I(OP_STORE, 1),			/* x = i */
	/* 10: while x != 1 */
	I(OP_LOAD, 1), I(OP_PUSH, 1), I(OP_EQ, 0), I(OP_JNZ, 27),
	I(OP_LOAD, 1), I(OP_PUSH, 1), I(OP_AND, 0), I(OP_JZ, 22),
	I(OP_LOAD, 1), I(OP_PUSH, 3), I(OP_MUL, 0), I(OP_INC, 0),
	/* 22 */ I(OP_JMP, 24), I(OP_HALT, 0),
	/* 24 */ I(OP_LOAD, 1), I(OP_PUSH, 1), I(OP_SHR, 0),
	/* 27: x even: shifted; odd: 3x+1 left on stack; store back */
	I(OP_JMP, 32), I(OP_HALT, 0), I(OP_HALT, 0), I(OP_HALT, 0),
	/* 31 */ I(OP_LOAD, 2),
	/* 32 */ I(OP_STORE, 1), I(OP_LOAD, 2), I(OP_INC, 0), I(OP_STORE, 2),
	I(OP_LOAD, 1), I(OP_PUSH, 1), I(OP_EQ, 0), I(OP_JZ, 10),
	I(OP_LOAD, 0), I(OP_INC, 0), I(OP_STORE, 0), I(OP_JMP, 4),
};

/* primes below n by trial division with CALL/RET */
static const u32 prog_primes[] = {
	I(OP_PUSH, 2), I(OP_STORE, 0), I(OP_PUSH, 0), I(OP_STORE, 2),
	/* 4 */ I(OP_LOAD, 0), I(OP_LOAD, 3), I(OP_LT, 0), I(OP_JZ, 16),
	I(OP_CALL, 18), I(OP_LOAD, 2), I(OP_ADD, 0), I(OP_STORE, 2),
	I(OP_LOAD, 0), I(OP_INC, 0), I(OP_STORE, 0), I(OP_JMP, 4),
	/* 16 */ I(OP_LOAD, 2), I(OP_HALT, 0),
	/* 18: isprime(mem0) -> 0/1 */
	I(OP_PUSH, 2), I(OP_STORE, 1),
	/* 20 */ I(OP_LOAD, 1), I(OP_DUP, 0), I(OP_MUL, 0), I(OP_LOAD, 0),
	I(OP_GT, 0), I(OP_JNZ, 35),
	I(OP_LOAD, 0), I(OP_LOAD, 1), I(OP_MOD, 0), I(OP_JZ, 37),
	I(OP_LOAD, 1), I(OP_INC, 0), I(OP_STORE, 1), I(OP_JMP, 20), I(OP_HALT, 0),
	/* 35 */ I(OP_PUSH, 1), I(OP_RET, 0),
	/* 37 */ I(OP_PUSH, 0), I(OP_RET, 0),
};

static u64 part_vm(struct rng *r)
{
	struct vm m;
	u64 sum = 0;
	int i;

	for (i = 0; i < 1; i++) {
		__builtin_memset(&m, 0, sizeof(m));
		m.mem[3] = 10 + (next(r) & 15);
		sum += vm_run(&m, prog_collatz, sizeof(prog_collatz) / 4, 20000);
		__builtin_memset(&m, 0, sizeof(m));
		m.mem[3] = 20 + (next(r) & 31);
		sum += vm_run(&m, prog_primes, sizeof(prog_primes) / 4, 20000);
		sum += m.steps;
	}
	return sum;
}

/* ---- an open-addressing hash table ---- */

#define HT_SLOTS 1024
struct ht_entry { u64 key, val; u8 state; };	/* 0 free, 1 used, 2 deleted */

static u64 hash64(u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	return k ^ (k >> 33);
}

static int ht_put(struct ht_entry *t, u64 key, u64 val)
{
	u32 i, h = (u32)hash64(key) & (HT_SLOTS - 1), tomb = HT_SLOTS;

	for (i = 0; i < HT_SLOTS; i++) {
		struct ht_entry *e = &t[(h + i) & (HT_SLOTS - 1)];

		if (e->state == 0) {
			if (tomb != HT_SLOTS)
				e = &t[tomb];
			e->key = key;
			e->val = val;
			e->state = 1;
			return 1;
		}
		if (e->state == 2 && tomb == HT_SLOTS)
			tomb = (h + i) & (HT_SLOTS - 1);
		else if (e->state == 1 && e->key == key) {
			e->val = val;
			return 0;
		}
	}
	return -1;
}

static struct ht_entry *ht_get(struct ht_entry *t, u64 key)
{
	u32 i, h = (u32)hash64(key) & (HT_SLOTS - 1);

	for (i = 0; i < HT_SLOTS; i++) {
		struct ht_entry *e = &t[(h + i) & (HT_SLOTS - 1)];

		if (e->state == 0)
			return 0;
		if (e->state == 1 && e->key == key)
			return e;
	}
	return 0;
}

static int ht_del(struct ht_entry *t, u64 key)
{
	struct ht_entry *e = ht_get(t, key);

	if (!e)
		return 0;
	e->state = 2;
	return 1;
}

static u64 part_hash(struct rng *r, struct ht_entry *t)
{
	u64 sum = 0;
	int i;

	__builtin_memset(t, 0, HT_SLOTS * sizeof(*t));
	for (i = 0; i < 200; i++) {
		u64 k = next(r) & 1023;

		switch (next(r) % 3) {
		case 0: sum += ht_put(t, k, i); break;
		case 1: { struct ht_entry *e = ht_get(t, k); sum += e ? e->val : 7; } break;
		default: sum += ht_del(t, k); break;
		}
	}
	return sum;
}

/* ---- sorts, generic over element type and order ---- */

/* One family of sorts for element type T ordered by BEFORE(a, b). */
#define DEFINE_SORTS(name, T, BEFORE)						\
static void name##_insertion(T *a, int n)					\
{										\
	int i, j;								\
										\
	for (i = 1; i < n; i++) {						\
		T v = a[i];							\
										\
		for (j = i - 1; j >= 0 && BEFORE(v, a[j]); j--)			\
			a[j + 1] = a[j];					\
		a[j + 1] = v;							\
	}									\
}										\
static void name##_shell(T *a, int n)						\
{										\
	static const int gaps[] = { 57, 23, 10, 4, 1 };			\
	int g, i, j;								\
										\
	for (g = 0; g < 5; g++) {						\
		int gap = gaps[g];						\
										\
		for (i = gap; i < n; i++) {					\
			T v = a[i];						\
										\
			for (j = i; j >= gap && BEFORE(v, a[j - gap]); j -= gap) \
				a[j] = a[j - gap];				\
			a[j] = v;						\
		}								\
	}									\
}										\
static void name##_sift(T *a, int root, int n)				\
{										\
	while (2 * root + 1 < n) {						\
		int child = 2 * root + 1;					\
		T t;								\
										\
		if (child + 1 < n && BEFORE(a[child], a[child + 1]))		\
			child++;						\
		if (!BEFORE(a[root], a[child]))					\
			return;							\
		t = a[root];							\
		a[root] = a[child];						\
		a[child] = t;							\
		root = child;							\
	}									\
}										\
static void name##_heap(T *a, int n)						\
{										\
	int i;									\
										\
	for (i = n / 2 - 1; i >= 0; i--)					\
		name##_sift(a, i, n);						\
	for (i = n - 1; i > 0; i--) {						\
		T t = a[0];							\
										\
		a[0] = a[i];							\
		a[i] = t;							\
		name##_sift(a, 0, i);						\
	}									\
}										\
static void name##_quick(T *a, int n)						\
{										\
	int lo[48], hi[48], top = 0;						\
										\
	lo[0] = 0;								\
	hi[0] = n - 1;								\
	while (top >= 0) {							\
		int l = lo[top], h = hi[top--], i = l, j = h;			\
		T p = a[l + (h - l) / 2];					\
										\
		if (h - l < 12) {						\
			name##_insertion(a + l, h - l + 1);			\
			continue;						\
		}								\
		while (i <= j) {						\
			while (BEFORE(a[i], p))					\
				i++;						\
			while (BEFORE(p, a[j]))					\
				j--;						\
			if (i <= j) {						\
				T t = a[i];					\
										\
				a[i++] = a[j];					\
				a[j--] = t;					\
			}							\
		}								\
		if (top < 45) {							\
			if (l < j) { lo[++top] = l; hi[top] = j; }		\
			if (i < h) { lo[++top] = i; hi[top] = h; }		\
		} else {							\
			name##_insertion(a + l, h - l + 1);			\
		}								\
	}									\
}										\
static void name##_merge(T *a, T *tmp, int n)					\
{										\
	int w, i;								\
										\
	for (w = 1; w < n; w *= 2) {						\
		for (i = 0; i < n; i += 2 * w) {				\
			int l = i, m = i + w < n ? i + w : n;			\
			int r = i + 2 * w < n ? i + 2 * w : n;			\
			int x = l, y = m, k = l;				\
										\
			while (x < m && y < r)					\
				tmp[k++] = !BEFORE(a[y], a[x]) ? a[x++] : a[y++]; \
			while (x < m)						\
				tmp[k++] = a[x++];				\
			while (y < r)						\
				tmp[k++] = a[y++];				\
		}								\
		__builtin_memcpy(a, tmp, n * sizeof(*a));			\
	}									\
}										\
static u64 name##_check(const T *a, int n)					\
{										\
	u64 sum = 0;								\
	int i;									\
										\
	for (i = 0; i < n; i++) {						\
		if (i && BEFORE(a[i], a[i - 1]))				\
			return ~0ull;						\
		sum = sum * 31 + (u64)a[i];					\
	}									\
	return sum;								\
}										\
static u64 name##_all(struct rng *r, void *buf, void *tmp, int n)		\
{										\
	T *a = buf;								\
	u64 sum = 0;								\
	int s, i;								\
										\
	for (s = 0; s < 5; s++) {						\
		for (i = 0; i < n; i++)						\
			a[i] = (T)(next(r) % (s == 4 ? 16 : 100000));		\
		switch (s) {							\
		case 0: name##_insertion(a, n); break;				\
		case 1: name##_shell(a, n); break;				\
		case 2: name##_heap(a, n); break;				\
		case 3: name##_quick(a, n); break;				\
		default: name##_merge(a, tmp, n); break;			\
		}								\
		sum += name##_check(a, n);					\
	}									\
	return sum;								\
}

#define ASC(a, b)	((a) < (b))
#define DESC(a, b)	((a) > (b))
/* by low byte, then by value: a two-key order */
#define LOWBYTE(a, b)	(((a) & 0xff) != ((b) & 0xff) ? ((a) & 0xff) < ((b) & 0xff) : (a) < (b))
typedef uint16_t u16;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

DEFINE_SORTS(u8_asc, u8, ASC)
DEFINE_SORTS(u8_desc, u8, DESC)
DEFINE_SORTS(s8_asc, s8, ASC)
DEFINE_SORTS(s8_desc, s8, DESC)
DEFINE_SORTS(u16_asc, u16, ASC)
DEFINE_SORTS(u16_low, u16, LOWBYTE)
DEFINE_SORTS(s16_asc, s16, ASC)
DEFINE_SORTS(s16_desc, s16, DESC)
DEFINE_SORTS(u16_desc, u16, DESC)
DEFINE_SORTS(u32_asc, u32, ASC)
DEFINE_SORTS(u32_desc, u32, DESC)
DEFINE_SORTS(u32_low, u32, LOWBYTE)
DEFINE_SORTS(s32_asc, s32, ASC)
DEFINE_SORTS(s32_desc, s32, DESC)
DEFINE_SORTS(u64_asc, u64, ASC)
DEFINE_SORTS(u64_desc, u64, DESC)
DEFINE_SORTS(u64_low, u64, LOWBYTE)
DEFINE_SORTS(s64_asc, s64, ASC)
DEFINE_SORTS(s64_desc, s64, DESC)
DEFINE_SORTS(s64_low, s64, LOWBYTE)

static u64 part_sort(struct rng *r, void *a, void *tmp)
{
	static u64 (*const families[])(struct rng *, void *, void *, int) = {
		u8_asc_all, u8_desc_all, s8_asc_all, s8_desc_all,
		u16_asc_all, u16_desc_all, u16_low_all, s16_asc_all, s16_desc_all,
		u32_asc_all, u32_desc_all, u32_low_all, s32_asc_all,
		s32_desc_all, u64_asc_all, u64_desc_all, u64_low_all,
		s64_asc_all, s64_desc_all, s64_low_all,
	};
	u64 sum = 0;
	unsigned int f;

	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++)
		sum = sum * 31 + families[f](r, a, tmp, 20);
	return sum;
}

/* ---- an expression parser: digits, + - * / % ( ) and unary minus ---- */

struct parser { const char *s; int pos, err; };

static int64_t expr(struct parser *p);

static char peek(struct parser *p)
{
	while (p->s[p->pos] == ' ')
		p->pos++;
	return p->s[p->pos];
}

static int64_t primary(struct parser *p)
{
	char c = peek(p);
	int64_t v = 0;

	if (c == '(') {
		p->pos++;
		v = expr(p);
		if (peek(p) != ')')
			p->err = 1;
		else
			p->pos++;
		return v;
	}
	if (c == '-') {
		p->pos++;
		return -primary(p);
	}
	if (c < '0' || c > '9') {
		p->err = 1;
		return 0;
	}
	while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
		v = v * 10 + (p->s[p->pos++] - '0');
	return v;
}

static int64_t term(struct parser *p)
{
	int64_t v = primary(p), w;

	for (;;) {
		char c = peek(p);

		if (c != '*' && c != '/' && c != '%')
			return v;
		p->pos++;
		w = primary(p);
		if (c == '*')
			v *= w;
		else if (w == 0)
			p->err = 1;
		else if (c == '/')
			v /= w;
		else
			v %= w;
	}
}

static int64_t expr(struct parser *p)
{
	int64_t v = term(p);

	for (;;) {
		char c = peek(p);

		if (c != '+' && c != '-')
			return v;
		p->pos++;
		v = c == '+' ? v + term(p) : v - term(p);
	}
}

/* Write a random expression of depth d into buf. */
static int gen(struct rng *r, char *buf, int len, int d)
{
	static const char ops[] = "+-*/%";
	int n = 0;

	if (len < 24)
		return 0;
	if (d == 0 || (next(r) & 3) == 0) {
		u32 v = (u32)next(r) % 1000;
		char tmp[8];
		int k = 0;

		do {
			tmp[k++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		while (k)
			buf[n++] = tmp[--k];
		return n;
	}
	buf[n++] = '(';
	n += gen(r, buf + n, (len - n) / 2, d - 1);
	buf[n++] = ' ';
	buf[n++] = ops[next(r) % 5];
	buf[n++] = ' ';
	n += gen(r, buf + n, len - n - 2, d - 1);
	buf[n++] = ')';
	return n;
}

static u64 part_parse(struct rng *r, char *buf)
{
	u64 sum = 0;
	int i, n;

	for (i = 0; i < 4; i++) {
		struct parser p = { buf, 0, 0 };

		n = gen(r, buf, 1000, 5);
		buf[n] = 0;
		sum += (u64)expr(&p) + (u64)p.err * 1000003 + (u64)p.pos;
	}
	return sum;
}

/* ---- checksums and an encoder ---- */

static u32 crc32(const u8 *p, int n)
{
	u32 c = ~0u;
	int i, k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

static u32 adler32(const u8 *p, int n)
{
	u32 a = 1, b = 0;
	int i;

	for (i = 0; i < n; i++) {
		a = (a + p[i]) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

static int base64(const u8 *in, int n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		u32 v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		u32 v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0);

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

static u64 part_sums(struct rng *r, u8 *buf, char *out)
{
	int i, n = 64 + (int)(next(r) & 63);

	for (i = 0; i < n; i++)
		buf[i] = (u8)next(r);
	return (u64)crc32(buf, n) << 32 ^ adler32(buf, n) ^
	    (u64)crc32((const u8 *)out, base64(buf, n, out));
}

uint64_t kcb_workload(uint64_t seed, void *scratch)
{
	struct rng r = { seed | 1 };
	u8 *mem = scratch;
	u64 sum;

	/* scratch: hash table 24 KiB, two sort arrays 2 KiB, 2 text KiB */
	sum = part_vm(&r);
	sum = sum * 31 + part_hash(&r, (struct ht_entry *)mem);
	sum = sum * 31 + part_sort(&r, mem + 32768, mem + 36864);
	sum = sum * 31 + part_parse(&r, (char *)(mem + 40960));
	sum = sum * 31 + part_sums(&r, mem + 49152, (char *)(mem + 53248));
	return sum;
}
