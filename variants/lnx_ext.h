/* SPDX-License-Identifier: MIT */
#ifndef KCB_LNX_EXT_H
#define KCB_LNX_EXT_H
/*
 * KCOV_EXT_RECORDS (Jann Horn, v1 11 Mar 2026, v2 18 Mar 2026, not merged):
 * in the extended mode (KCOV_TRACE_PC_EXT) the top byte of a trace-pc
 * record carries its type: function entry, function exit, or a basic
 * block inside the function; userspace gets the kernel PC back by setting
 * the byte to 0xff again (the series' example: record | ~KCOV_RECORD_IP_MASK).
 * The mask is the series'; the type values here are ours (the mail's
 * values were not read).  Shared by fe_lnx_ext_v1.c and fe_lnx_ext_mode.c.
 *
 * Only trace_pc's record changes, so only it is built with the tag: the
 * entry/exit hooks that -fsanitize-coverage=trace-pc-entry-exit (LLVM 23)
 * adds are trace_pc with another type (entry) or one that records in the
 * extended mode only (exit); kcovbench's hooks and modes are the ten
 * upstream ones, and what is measured is what the check costs them.
 */
#define KCB_REC_IP_MASK		0x00ffffffffffffffull
#define KCB_REC_TYPE_SHIFT	56
#define KCB_REC_TYPE_BB		0x01ull	/* ours */
#define KCB_REC_TYPE_ENTRY	0x02ull	/* ours */
#define KCB_REC_TYPE_EXIT	0x03ull	/* ours */

/* KCOV_EXT_FORMAT in linux-ext-mode's encoding (ours): above the mode byte */
#define KCB_MODE_EXT_FORMAT	(1u << 8)

/* A PC in the extended format: its top byte replaced by the type. */
static __always_inline uint64_t lnx_ext_tag(uint64_t pc, uint64_t type)
{
	return (pc & KCB_REC_IP_MASK) | (type << KCB_REC_TYPE_SHIFT);
}
#endif
