/* SPDX-License-Identifier: MIT */
/*
 * f8npu register map, hardware version 1.0. Normative description:
 * docs/regs.md. All registers are 32 bits wide at 4-byte aligned byte
 * offsets; 64-bit quantities are split into _LO/_HI pairs (read _LO first:
 * reading _LO latches _HI).
 */
#ifndef F8NPU_REGS_H
#define F8NPU_REGS_H

#ifdef __cplusplus
extern "C" {
#endif

#define F8NPU_REG_SPACE_SIZE 0x1000u

/* Identification (read-only). */
#define F8NPU_REG_ID 0x000u          /* F8NPU_ID_VALUE */
#define F8NPU_REG_HW_VERSION 0x004u  /* major << 16 | minor */
#define F8NPU_REG_CMD_VERSION 0x008u /* command stream major << 16 | minor */
#define F8NPU_REG_IMPL 0x00cu        /* enum f8npu_impl */

/* Capabilities (read-only). */
#define F8NPU_REG_CAP_ARRAY 0x010u   /* rows [15:0], cols [31:16] */
#define F8NPU_REG_CAP_OPS 0x014u     /* bit n set: opcode n supported */
#define F8NPU_REG_CAP_REGIONS 0x018u /* number of region table entries */
#define F8NPU_REG_CAP_IBUF 0x01cu    /* input buffer bytes */
#define F8NPU_REG_CAP_WBUF 0x020u    /* weight buffer bytes */
#define F8NPU_REG_CAP_ABUF 0x024u    /* accumulator buffer bytes */
#define F8NPU_REG_CAP_MAX_DIM 0x028u /* largest n, h, w or c */
#define F8NPU_REG_CAP_MAX_K 0x02cu   /* largest kernel_h*kernel_w*cin */
#define F8NPU_REG_CAP_SHIFT 0x030u   /* out_shift min [7:0] (s8), max [15:8], align max [23:16] */
#define F8NPU_REG_CAP_TYPES 0x034u   /* bit t set: enum f8npu_type t supported */

/* Control and status. */
#define F8NPU_REG_CTRL 0x040u     /* write-only pulses, reads 0 */
#define F8NPU_REG_STATUS 0x044u   /* read-only */
#define F8NPU_REG_ERR_CODE 0x048u /* enum f8npu_err of the last job */
#define F8NPU_REG_ERR_INDEX 0x04cu /* descriptor index of the fault, 0xffffffff: header */
#define F8NPU_REG_IRQ_STATUS 0x050u /* raw events; write 1 to clear */
#define F8NPU_REG_IRQ_MASK 0x054u   /* 1 = event drives the interrupt line */

/* Command queue. */
#define F8NPU_REG_CMD_BASE_LO 0x060u
#define F8NPU_REG_CMD_BASE_HI 0x064u
#define F8NPU_REG_CMD_SIZE 0x068u /* bytes available at CMD_BASE */
#define F8NPU_REG_CMD_HEAD 0x06cu /* read-only: index of the next descriptor */
#define F8NPU_REG_CMD_TAIL 0x070u /* doorbell: execute descriptors below TAIL */

/* Performance counters (read-only, 64-bit, cleared by CTRL.PERF_CLEAR and reset). */
#define F8NPU_REG_PERF_CYCLES_LO 0x080u /* cycles while busy */
#define F8NPU_REG_PERF_CYCLES_HI 0x084u
#define F8NPU_REG_PERF_MACS_LO 0x088u   /* 8x8 multiply-accumulates issued */
#define F8NPU_REG_PERF_MACS_HI 0x08cu
#define F8NPU_REG_PERF_RD_LO 0x090u     /* DMA bytes read */
#define F8NPU_REG_PERF_RD_HI 0x094u
#define F8NPU_REG_PERF_WR_LO 0x098u     /* DMA bytes written */
#define F8NPU_REG_PERF_WR_HI 0x09cu
#define F8NPU_REG_PERF_STALL_LO 0x0a0u  /* busy cycles with the MAC array idle */
#define F8NPU_REG_PERF_STALL_HI 0x0a4u
#define F8NPU_REG_PERF_DESCS 0x0a8u     /* descriptors completed (32-bit, wraps) */

/* Region table: F8NPU_REGIONS entries of 16 bytes from 0x100. */
#define F8NPU_REG_REGION_BASE 0x100u
#define F8NPU_REG_REGION_STRIDE 0x10u
#define F8NPU_REG_REGION_BASE_LO(r) (0x100u + 0x10u * (r) + 0x0u)
#define F8NPU_REG_REGION_BASE_HI(r) (0x100u + 0x10u * (r) + 0x4u)
#define F8NPU_REG_REGION_SIZE_LO(r) (0x100u + 0x10u * (r) + 0x8u)
#define F8NPU_REG_REGION_SIZE_HI(r) (0x100u + 0x10u * (r) + 0xcu)
#define F8NPU_REGIONS 16u

/* Values. */
#define F8NPU_ID_VALUE 0x504e3846u /* "F8NP" as bytes */
#define F8NPU_HW_VERSION_MAJOR 1u
#define F8NPU_HW_VERSION_MINOR 0u

enum f8npu_impl {
	F8NPU_IMPL_MODEL = 0, /* the C functional model (sim/) */
	F8NPU_IMPL_RTL_SIM = 1, /* the Verilated RTL */
	F8NPU_IMPL_FPGA = 2   /* the RTL on an FPGA */
};

/* CTRL bits (write 1 to act). */
#define F8NPU_CTRL_START (1u << 0)      /* latch the header, HEAD = 0, run */
#define F8NPU_CTRL_SOFT_RESET (1u << 1) /* abort, all registers to reset values */
#define F8NPU_CTRL_PERF_CLEAR (1u << 2) /* zero the performance counters */

/* STATUS bits. */
#define F8NPU_STATUS_BUSY (1u << 0)  /* a job is started and not finished */
#define F8NPU_STATUS_WAIT (1u << 1)  /* busy, HEAD == TAIL: waiting for the doorbell */
#define F8NPU_STATUS_DONE (1u << 2)  /* the last job reached END */
#define F8NPU_STATUS_ERROR (1u << 3) /* the last job stopped on an error */

/* IRQ_STATUS / IRQ_MASK bits. */
#define F8NPU_IRQ_DONE (1u << 0)
#define F8NPU_IRQ_ERROR (1u << 1)
#define F8NPU_IRQ_ALL 0x3u

/* Error codes (ERR_CODE). Never renumber. */
enum f8npu_err {
	F8NPU_ERR_NONE = 0,
	F8NPU_ERR_BAD_MAGIC = 1,   /* header magic wrong */
	F8NPU_ERR_BAD_VERSION = 2, /* header major != device major, or minor too new */
	F8NPU_ERR_BAD_HEADER = 3,  /* desc_size, reserved, or count beyond CMD_SIZE */
	F8NPU_ERR_CMD_OOB = 4,     /* header does not fit in CMD_SIZE */
	F8NPU_ERR_BAD_OPCODE = 5,  /* opcode unknown or not in CAP_OPS */
	F8NPU_ERR_BAD_FIELD = 6,   /* reserved non-zero, unknown flag/type, field not allowed */
	F8NPU_ERR_BAD_SHAPE = 7,   /* zero dim, inconsistent shapes, padding >= kernel */
	F8NPU_ERR_LIMIT = 8,       /* beyond a capability limit (K, window, shift) */
	F8NPU_ERR_BAD_REGION = 9,  /* region index >= CAP_REGIONS, or region size 0 */
	F8NPU_ERR_OOB_READ = 10,   /* an input footprint leaves its region */
	F8NPU_ERR_OOB_WRITE = 11,  /* an output footprint leaves its region */
	F8NPU_ERR_ALIGN = 12,      /* int32 data not 4-byte aligned */
	F8NPU_ERR_OVERLAP = 13,    /* an output overlaps an input or the other output */
	F8NPU_ERR_NO_END = 14,     /* desc_count descriptors ran without END */
	F8NPU_ERR_BUS = 15,        /* the memory system refused an access */
	F8NPU_ERR_COUNT_ = 16
};

#ifdef __cplusplus
}
#endif

#endif /* F8NPU_REGS_H */
