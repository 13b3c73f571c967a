# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# qemu-lib.sh - what the qemu scripts share: build kcovbench.ko for a
# Debian kernel flavour, fetch that kernel (apt-get download, unpacked into
# .cache/kernels/, never installed), pack a busybox initramfs around an
# /init body, boot it, and look for kernel trouble in the serial log.
# Sourced by every scripts/qemu-kmod-*; the caller sets `set -euo
# pipefail` and may set:
#
#	QEMU_ACCEL	kvm or tcg (probed at the first boot if unset)
#	QEMU_TIMEOUT	seconds per boot (default 600)
#	QEMU_SMP	CPUs of the guest (default 2)
#	KDIR		kernel headers, passed to kmod/Makefile

qemu_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
qemu_cache=$qemu_root/.cache/kernels
qemu_build=$qemu_root/build
qemu_timeout=${QEMU_TIMEOUT:-600}
qemu_smp=${QEMU_SMP:-2}
qemu_accel=${QEMU_ACCEL:-}
qemu_prog=$(basename "$0")

die() {
	echo "$qemu_prog: $*" >&2
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found (install $2)"
}

# qemu_check_tools: every tool the scripts need, or die naming its package.
qemu_check_tools() {
	need qemu-system-x86_64 qemu-system-x86
	need busybox busybox-static
	need cpio cpio
	need gzip gzip
	need apt-get apt
	need dpkg-deb dpkg
	need modinfo kmod
	need make make
	need strip binutils
	need nm binutils
	qemu_busybox=$(command -v busybox)
	# The initramfs has no libc: a dynamic busybox would not even start.
	if readelf -l "$qemu_busybox" 2>/dev/null | grep -q 'program interpreter'; then
		die "$qemu_busybox is dynamically linked (install busybox-static)"
	fi
}

# qemu_flavours ARG: the flavours "all", "amd64" or "rt-amd64" name.
qemu_flavours() {
	case ${1:-all} in
	all) echo "amd64 rt-amd64" ;;
	amd64 | rt-amd64) echo "$1" ;;
	*) return 1 ;;
	esac
}

# kvm_boots VMLINUZ: 0 if that kernel really starts under KVM (it then
# panics for want of a root fs and -no-reboot ends qemu).  /dev/kvm alone
# proves little: nested hosts may reject -cpu host's MSRs or hang the guest.
kvm_boots() {
	local out

	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	out=$(timeout -k 5 30 qemu-system-x86_64 -accel kvm -cpu host -smp 2 \
		-m 1G -nographic -no-reboot -nic none -kernel "$1" \
		-append "console=ttyS0 panic=-1" </dev/null 2>&1) &&
		[[ $out == *"Linux version"* ]]
}

# fetch_kernel RELEASE: print the path of vmlinuz-RELEASE, fetching and
# unpacking the image package (the headers' exact version if apt has it).
fetch_kernel() {
	local rel=$1 ver dir deb pkg tries apt_opts=()

	ver=$(dpkg-query -W -f='${Version}' "linux-headers-$rel" 2>/dev/null) || ver=
	dir=$qemu_cache/$rel${ver:+_$ver}
	if [ -f "$dir/boot/vmlinuz-$rel" ]; then
		echo "$dir/boot/vmlinuz-$rel"
		return
	fi
	# As root, apt's _apt sandbox user cannot write to the cache dir.
	[ "$(id -u)" != 0 ] || apt_opts=(-o APT::Sandbox::User=root)
	mkdir -p "$qemu_cache"
	tries=
	[ -z "$ver" ] || tries="linux-image-$rel=$ver linux-image-$rel-unsigned=$ver"
	tries="$tries linux-image-$rel linux-image-$rel-unsigned"
	for pkg in $tries; do
		rm -f "$qemu_cache"/linux-image-"$rel"_*.deb "$qemu_cache"/linux-image-"$rel"-unsigned_*.deb
		if (cd "$qemu_cache" && apt-get "${apt_opts[@]}" -q download "$pkg") >&2; then
			deb=$(ls "$qemu_cache"/linux-image-"$rel"*.deb)
			[ "$pkg" = "${pkg%=*}" ] && [ -n "$ver" ] &&
				echo "$qemu_prog: note: $pkg is not $ver, the headers' version" >&2
			mkdir -p "$dir"
			# Only the kernel is needed: the module depends on no other.
			dpkg-deb --fsys-tarfile "$deb" |
				tar -x -C "$dir" "./boot/vmlinuz-$rel" ||
				die "cannot unpack vmlinuz-$rel from $deb"
			rm -f "$deb"
			echo "$dir/boot/vmlinuz-$rel"
			return
		fi
	done
	die "apt-get download found no linux-image-$rel (try apt-get update)"
}

# build_module FLAVOUR: build kcovbench.ko (log: build/kmod-FLAVOUR.make.log)
# and set qemu_ko, qemu_rel and qemu_vmlinuz; 1 if the build fails.
build_module() {
	local flav=$1 log=$qemu_build/kmod-$1.make.log

	mkdir -p "$qemu_build"
	if ! make -C "$qemu_root/kmod" "$flav" >"$log" 2>&1; then
		tail -n 30 "$log"
		echo "$qemu_prog: $flav: module build failed ($log)"
		return 1
	fi
	qemu_ko=$qemu_build/kmod-$flav/kmod/kcovbench.ko
	qemu_rel=$(modinfo -F vermagic "$qemu_ko" | cut -d' ' -f1) ||
		die "modinfo $qemu_ko failed"
	# The workload copies must reach our hooks, never the kernel's kcov.
	[ -z "$(nm -u "$qemu_ko" | grep __sanitizer_cov_ || true)" ] ||
		die "$qemu_ko calls undefined __sanitizer_cov_* hooks (kmod/Kbuild's copies)"
	[ -z "$(modinfo -F depends "$qemu_ko")" ] ||
		die "kcovbench.ko depends on $(modinfo -F depends "$qemu_ko"); the initramfs has no modules"
	# Failures here are the machine's, not the module's: stop everything.
	qemu_vmlinuz=$(fetch_kernel "$qemu_rel") || exit 1
}

# make_initramfs KO OUT BODY [FILE...]: a busybox initramfs with KO (its
# debug info stripped) as /kcovbench.ko, each FILE in /, and an /init that mounts devtmpfs, proc,
# sysfs and debugfs, runs the shell text BODY, and powers off.
make_initramfs() {
	local ko=$1 out=$2 body=$3 dir=${2%.cpio.gz}.d app

	shift 3
	rm -rf "$dir"
	mkdir -p "$dir/bin" "$dir/dev" "$dir/proc" "$dir/sys"
	cp "$qemu_busybox" "$dir/bin/busybox"
	for app in sh mount insmod rmmod dmesg grep poweroff cat echo sleep \
	    kill head tr wc sed seq test true false dd; do
		ln -s busybox "$dir/bin/$app"
	done
	# Debug info is most of the module (Debian's kernels build with -g):
	# without it, the initramfs packs and each insmod reads a quarter.
	strip --strip-debug -o "$dir/kcovbench.ko" "$ko"
	[ $# = 0 ] || cp "$@" "$dir/"
	# The kernel opens /dev/console before /init runs; without a node
	# (no mknod in some containers) /init reopens it from devtmpfs.
	mknod "$dir/dev/console" c 5 1 2>/dev/null || true
	{
		cat <<-'EOF'
			#!/bin/sh
			export PATH=/bin
			mount -t devtmpfs dev /dev
			exec </dev/console >/dev/console 2>&1
			mount -t proc proc /proc
			mount -t sysfs sys /sys
			mount -t debugfs debugfs /sys/kernel/debug
		EOF
		printf '%s\n' "$body"
		echo "poweroff -f"
	} >"$dir/init"
	chmod +x "$dir/init"
	(cd "$dir" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --quiet) | gzip -1 >"$out"
}

# boot VMLINUZ INITRD LOG: boot with QEMU_SMP CPUs, the serial console in
# LOG (CRs dropped).  Returns qemu's status: 124 or 137 is a timeout.
# Sets qemu_boot_s to the boot's wall time.
boot() {
	local vmlinuz=$1 initrd=$2 log=$3 rc=0 start cpu=()

	if [ -z "$qemu_accel" ]; then
		qemu_accel=tcg
		kvm_boots "$vmlinuz" && qemu_accel=kvm
	fi
	[ "$qemu_accel" != kvm ] || cpu=(-cpu host)
	start=$(date +%s)
	timeout -k 10 "$qemu_timeout" qemu-system-x86_64 -accel "$qemu_accel" "${cpu[@]}" \
		-smp "$qemu_smp" -m 1G -nographic -no-reboot -nic none \
		-kernel "$vmlinuz" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1" </dev/null 2>&1 |
		tr -d '\r' >"$log" || rc=$?
	qemu_boot_s=$(($(date +%s) - start))
	return $rc
}

# kernel_trouble LOG: 0 (and the place, printed) if the kernel warned,
# oopsed or hit a BUG in LOG.
kernel_trouble() {
	local bad

	bad=$(grep -n -m1 -E 'BUG:|WARNING:|Oops|Call Trace' "$1") || return 1
	echo "kernel trouble at line ${bad%%:*} of $1:"
	sed -n "${bad%%:*},+30p" "$1"
}

# json_blocks LOG: check every results file the guest printed between
# "kcb-json-begin NAME" and "kcb-json-end NAME" lines: it parses as JSON
# and each repetition has an ns_per_op.  Prints how many; 1 on a bad one.
json_blocks() {
	python3 - "$1" <<-'PY'
		import json, re, sys
		text = open(sys.argv[1], errors="replace").read()
		blocks = re.findall(r"^kcb-json-begin (\S+)\n(.*?)^kcb-json-end \1$", text, re.M | re.S)
		bad = 0
		for name, body in blocks:
		    try:
		        runs = json.loads(body)["benchmarks"]
		        ok = runs and all(r.get("ns_per_op", 0) > 0 for r in runs)
		    except (ValueError, KeyError, TypeError) as e:
		        ok = False
		    if not ok:
		        print("bad results for %s:\n%s" % (name, body[:2000]))
		        bad += 1
		print("%d results files, %d bad" % (len(blocks), bad))
		sys.exit(1 if bad or not blocks else 0)
	PY
}

# The scripts that publish a results set (qemu-kmod-remote,
# qemu-kmod-remote-request, qemu-kmod-preempt) share what follows.

# results_commit OUT: set qemu_commit to HEAD's short hash, "-dirty" added
# when tracked or new files outside results/ differ; die if so and OUT is
# inside results/, which takes runs of a committed tree only.
results_commit() {
	qemu_commit=$(git -C "$qemu_root" rev-parse --short=12 HEAD)
	[ -n "$(git -C "$qemu_root" status --porcelain -- . ':!results')" ] || return 0
	case $(realpath -m "$1")/ in
	"$(realpath "$qemu_root/results")"/*)
		die "the tree is dirty: results/ takes runs of a committed tree only" ;;
	esac
	qemu_commit=$qemu_commit-dirty
}

# positive NAMES VALUE...: die unless every VALUE is a positive number.
positive() {
	local names=$1 v

	shift
	for v in "$@"; do
		case $v in '' | *[!0-9]* | 0) die "$names: positive numbers, not '$v'" ;; esac
	done
}

# remote_guest BODY: an /init body for remote= runs: insmod (no selftest),
# ncpus set, printk quiet, a kcb_run function, BODY, rmmod.  In BODY,
# "kcb_run NAME SPEC..." runs SPEC and prints its results between
# kcb-json-begin/end NAME lines, or "kcb-run: not ok NAME: SPEC".
remote_guest() {
	cat <<-'EOF'
		insmod /kcovbench.ko selftest=0 || echo "kcb-init: insmod failed"
		ncpus=$(grep -c ^processor /proc/cpuinfo)
		echo 1 >/proc/sys/kernel/printk
		kcb_run() {
			name=$1
			shift
			if echo "$*" >/sys/kernel/debug/kcovbench/run; then
				echo "kcb-json-begin $name"
				cat /sys/kernel/debug/kcovbench/results
				echo "kcb-json-end $name"
			else
				echo "kcb-run: not ok $name: $*"
			fi
		}
	EOF
	printf '%s\n' "$1"
	cat <<-'EOF'
		echo 7 >/proc/sys/kernel/printk
		rmmod kcovbench && echo "kcb-init: rmmod ok"
	EOF
}

# measure_flavours TAG BODY: for amd64 and rt-amd64, build the module, boot
# remote_guest BODY, keep the serial log in $qemu_tmp/FLAVOUR.log (the
# caller makes qemu_tmp, a temporary directory; a copy goes to
# build/qemu-TAG-FLAVOUR.log) and die unless the guest ran every spec
# cleanly: no kernel trouble, no failed run, results that parse, rmmod.
# Sets qemu_rels to "amd64=RELEASE rt-amd64=RELEASE".
measure_flavours() {
	local tag=$1 body=$2 flav log rc

	qemu_rels=""
	for flav in amd64 rt-amd64; do
		build_module "$flav" || exit 1
		make_initramfs "$qemu_ko" "$qemu_tmp/$flav.cpio.gz" "$(remote_guest "$body")"
		echo "== $flav: booting $qemu_rel"
		log=$qemu_tmp/$flav.log
		rc=0
		boot "$qemu_vmlinuz" "$qemu_tmp/$flav.cpio.gz" "$log" || rc=$?
		cp "$log" "$qemu_build/qemu-$tag-$flav.log"
		[ "$rc" = 0 ] || die "$flav: qemu exited $rc ($qemu_build/qemu-$tag-$flav.log)"
		! kernel_trouble "$log" || die "$flav: kernel trouble"
		! grep '^kcb-run: not ok' "$log" || die "$flav: runs failed"
		grep -q 'kcb-init: rmmod ok' "$log" || die "$flav: rmmod failed"
		json_blocks "$log" >/dev/null || die "$flav: bad results"
		echo "== $flav: $(grep -c '^kcb-json-begin' "$log") runs in ${qemu_boot_s}s"
		qemu_rels="$qemu_rels $flav=$qemu_rel"
	done
	qemu_rels=${qemu_rels# }
}
