/* SPDX-License-Identifier: MIT */
/*
 * The f8npu bridge's shared-memory protocol (docs/cosim.md): what a QEMU guest
 * sees in BAR2 of an ivshmem-doorbell device served by f8npu-bridge
 * (sim/f8npu-bridge.c), and what the bridge's host-side tests speak.
 *
 * Shared memory (BAR2), little-endian, every field naturally aligned:
 *	0x00000  control page: header, mailbox indices, interrupt state
 *	0x01000  request ring: F8BR_RING_ENTRIES x struct f8br_req
 *	0x10000  device memory window (F8BR_WIN_OFFSET): device DMA address A
 *	         is shared-memory offset F8BR_WIN_OFFSET + A, A < win_size
 *
 * Register access: the guest writes ring entry (prod % F8BR_RING_ENTRIES),
 * then req_prod = prod + 1, then rings the bridge's doorbell (BAR0 offset 12,
 * value bridge_peer << 16 | F8BR_VEC_MAILBOX). The bridge executes entries in
 * order, stores each one's result in the entry and then advances req_cons.
 * Writes may be posted (not waited for); a read waits until req_cons has
 * passed its entry. The device's interrupt line reaches the guest as MSI-X
 * vector F8BR_IRQ_VEC_DEVICE (docs/cosim.md, "Interrupts").
 *
 * Freestanding: included by the kernel driver too.
 */
#ifndef F8NPU_BRIDGE_H
#define F8NPU_BRIDGE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define F8BR_MAGIC 0x52423846u		/* "F8BR" in memory */
#define F8BR_VERSION_MAJOR 1u
#define F8BR_VERSION_MINOR 0u
#define F8BR_VERSION (F8BR_VERSION_MAJOR << 16 | F8BR_VERSION_MINOR)

#define F8BR_CTRL_SIZE 0x1000u		/* the control page */
#define F8BR_RING_OFFSET 0x1000u
#define F8BR_RING_ENTRIES 256u		/* a power of two */
#define F8BR_WIN_OFFSET 0x10000u	/* the device memory window in the shared memory */

/* The protocol version message a client gets instead of 0 when the bridge already serves a
 * guest (then the socket closes). */
#define F8BR_BUSY_VERSION 0xf8b5

/* Control page offsets (u32 unless said otherwise). */
/* Written by the bridge once per guest connection, read-only for the guest: */
#define F8BR_MAGIC_OFF 0x000		/* F8BR_MAGIC */
#define F8BR_VERSION_OFF 0x004		/* F8BR_VERSION: major [31:16], minor [15:0] */
#define F8BR_BRIDGE_PEER_OFF 0x008	/* the bridge's ivshmem peer ID: doorbell target */
#define F8BR_GUEST_PEER_OFF 0x00c	/* the guest's peer ID (its IVPosition) */
#define F8BR_WIN_OFFSET_OFF 0x010	/* u64: F8BR_WIN_OFFSET */
#define F8BR_WIN_SIZE_OFF 0x018		/* u64: bytes of the window (device addresses 0 .. size-1) */
#define F8BR_RING_OFFSET_OFF 0x020	/* F8BR_RING_OFFSET */
#define F8BR_RING_ENTRIES_OFF 0x024	/* F8BR_RING_ENTRIES */
#define F8BR_VECTORS_OFF 0x028		/* interrupt vectors per peer the bridge hands out */
#define F8BR_DEVICE_OFF 0x02c		/* the backend: F8BR_DEVICE_* */
#define F8BR_STATE_OFF 0x030		/* F8BR_STATE_* */
/* Written by the guest (its own cache line): */
#define F8BR_REQ_PROD_OFF 0x040		/* requests posted (free-running u32) */
#define F8BR_RESET_REQ_OFF 0x044	/* mailbox reset: write a new token, ring */
/* Written by the bridge: */
#define F8BR_REQ_CONS_OFF 0x080		/* requests completed (free-running u32) */
#define F8BR_RESET_ACK_OFF 0x084	/* the last mailbox reset token done */
#define F8BR_ERRORS_OFF 0x088		/* requests answered with a non-zero status */
#define F8BR_LAST_ERROR_OFF 0x08c	/* the last such status (F8BR_ST_*) */
#define F8BR_IRQ_LEVEL_OFF 0x090	/* the device's interrupt line as last evaluated */
#define F8BR_IRQ_COUNT_OFF 0x094	/* interrupt messages sent to the guest */
#define F8BR_JOB_STATE_OFF 0x098	/* F8BR_JOB_* */
#define F8BR_JOBS_OFF 0x09c		/* jobs started (CTRL.START writes on an idle device) */
#define F8BR_CYCLES_OFF 0x0a0		/* u64: device cycles run since the connection */

/* F8BR_DEVICE_OFF */
#define F8BR_DEVICE_MODEL 0u		/* sim/'s functional model */
#define F8BR_DEVICE_RTL 1u		/* the Verilated RTL */

/* F8BR_STATE_OFF */
#define F8BR_STATE_INIT 0u		/* the bridge has not set up this page yet */
#define F8BR_STATE_READY 1u		/* serving requests */

/* F8BR_JOB_STATE_OFF */
#define F8BR_JOB_IDLE 0u		/* the device is not running (idle or waiting for TAIL) */
#define F8BR_JOB_RUNNING 1u		/* the bridge is advancing the device */
#define F8BR_JOB_STALLED 2u		/* --stall-after: the job stopped advancing (reset it) */
#define F8BR_JOB_OVER_BUDGET 3u		/* --max-job-cycles: the job stopped advancing (reset it) */

/* Doorbell vectors (guest -> bridge) and interrupt vectors (bridge -> guest). */
#define F8BR_VEC_MAILBOX 0u		/* "the ring or the reset token changed" */
#define F8BR_IRQ_VEC_DEVICE 0u		/* the device's interrupt line went (or stays) high */

/**
 * struct f8br_req - one ring entry (16 bytes).
 * @seq: the request's number (the req_prod value it was posted under, i.e. its
 *	index before the increment); the bridge refuses an entry whose seq is not
 *	the one it expects (F8BR_ST_BAD_SEQ).
 * @op: F8BR_OP_*.
 * @status: written by the bridge: F8BR_ST_* (the guest writes 0).
 * @off: register offset (READ/WRITE), or the op's first argument.
 * @val: the value to write, or the value read (written by the bridge).
 */
struct f8br_req {
	uint32_t seq;
	uint16_t op;
	uint16_t status;
	uint32_t off;
	uint32_t val;
};

#define F8BR_OP_NOP 0u			/* nothing; status OK (a fence) */
#define F8BR_OP_READ 1u			/* val = register @off */
#define F8BR_OP_WRITE 2u		/* register @off = val */
#define F8BR_OP_STALL 3u		/* test: stall the next @off jobs (0xffffffff: every job)
					 * after val cycles; val 0: never stall */
#define F8BR_OP_INFO 4u			/* val = bridge info word @off (F8BR_INFO_*) */

#define F8BR_INFO_CYCLES_LO 0u		/* device cycles run since the connection [31:0] */
#define F8BR_INFO_CYCLES_HI 1u		/* [63:32] (not latched) */
#define F8BR_INFO_JOB_CYCLES 2u		/* cycles of the current job (saturates) */

#define F8BR_ST_OK 0u
#define F8BR_ST_BAD_OP 1u		/* unknown op */
#define F8BR_ST_BAD_OFF 2u		/* offset not 4-aligned or outside the 4 KiB register space */
#define F8BR_ST_BAD_SEQ 3u		/* seq is not the expected request number */
#define F8BR_ST_BAD_PROD 4u		/* req_prod ran more than F8BR_RING_ENTRIES ahead: the
					 * pending requests were dropped (reported in LAST_ERROR) */

#define F8BR_REG_SPACE 0x1000u		/* the device's register space (docs/regs.md) */

#if !defined(__cplusplus) && defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct f8br_req) == 16, "ring entry size");
_Static_assert(F8BR_RING_OFFSET + F8BR_RING_ENTRIES * 16u <= F8BR_WIN_OFFSET, "ring fits");
#endif

#endif /* F8NPU_BRIDGE_H */
