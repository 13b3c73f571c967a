#!/bin/sh
# tests/new_frontend.sh - "a new front end is one file and one line", checked:
# in a scratch copy of the working tree, copy variants/fe_lnx.c to
# fe_mine.c (id and name changed), add X(mine) to variants/frontends.h,
# configure, build test_twins and run `test_twins mine`: every twin must
# run and pass with no other file edited.  Then drop FE_IRQ_POLICY from
# fe_mine.c: the compiler must refuse it and say what to add.
# The tree's build/plain objects seed the copy, so only the new front end
# and the registry compile (about 20 s on 2 cores).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "new_frontend: $*" >&2; exit 1; }

cd "$root"
# tracked and untracked files, not ignored ones (no build outputs)
git ls-files -z -co --exclude-standard |
	tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$tmp"
if [ -d build/plain ]; then
	mkdir -p "$tmp/build/plain"
	cp -p build/.ninja_log build/.ninja_deps "$tmp/build/" 2>/dev/null || :
	cp -p build/plain/*.o build/plain/*.o.d "$tmp/build/plain/" 2>/dev/null || :
fi

cd "$tmp"
# a front-end id the tree does not have yet (a tree may hold a "mine")
id=mine n=1
while grep -q "X($id)" variants/frontends.h; do n=$((n + 1)); id=mine$n; done
sed -e "s/^#define FE\\([[:space:]]\\{1,\\}\\)lnx\$/#define FE\\1$id/" \
    -e "s/^#define FE_NAME\\([[:space:]]\\{1,\\}\\)\"linux\"\$/#define FE_NAME\\1\"$id\"/" \
    variants/fe_lnx.c > variants/fe_$id.c
grep -q "^#define FE[[:space:]]*$id\$" variants/fe_$id.c &&
	grep -q "^#define FE_NAME[[:space:]]*\"$id\"\$" variants/fe_$id.c ||
	fail "fe_lnx.c's FE or FE_NAME line changed shape: update this script"
sed -i "s/^\\([[:space:]]*\\)X(lnx)\\(.*\\)\$/&\\n\\1X($id)\\2/" variants/frontends.h
grep -q "X($id)" variants/frontends.h || fail "could not add X($id) to frontends.h"

scripts/configure >/dev/null || fail "scripts/configure failed"
ninja build/plain/test_twins >ninja.log 2>&1 || { tail -20 ninja.log >&2; fail "build failed"; }
build/plain/test_twins $id >twins.log 2>&1 || { cat twins.log >&2; fail "test_twins $id failed"; }
# every combo of the new front end ran the twins, the irq one included
grep -q "^ok irq $id/" twins.log || { cat twins.log >&2; fail "no irq twin ran for $id"; }
grep -q "^ok cmp-layout $id/" twins.log || { cat twins.log >&2; fail "no cmp-layout twin ran for $id"; }
tail -1 twins.log

# A front end that does not declare its interrupt policy must not build.
sed -i '/^#define FE_IRQ_POLICY/d' variants/fe_$id.c
if gcc -std=gnu11 -D_GNU_SOURCE -fsyntax-only variants/fe_$id.c 2>cc.log; then
	fail "fe_$id.c without FE_IRQ_POLICY compiled"
fi
grep -q 'define FE_IRQ_POLICY' cc.log || { cat cc.log >&2; fail "the compiler's message does not say to define FE_IRQ_POLICY"; }
echo "new_frontend: ok (one file and one line; a missing declaration is refused)"
