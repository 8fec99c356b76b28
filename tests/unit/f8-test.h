/* SPDX-License-Identifier: MIT */
/*
 * Shared fixtures of the f8npu unit tests (Check, one runner: main.c).
 *
 * Every test talks to a fresh functional model through struct f8npu_dev and
 * an f8npu_hostmem: regions and command streams are host buffers at device
 * addresses. Expected results come from the naive reference below, written
 * from docs/arith.md and docs/isa.md only: it never calls sim/ code, so a
 * bug shared by the model and its own reference kernels still shows.
 *
 * Memory checks go through snapshots: copy every host buffer before a job,
 * apply the reference to the copy for the descriptors that should complete,
 * then require the live memory to equal the copy byte for byte. That also
 * catches stray writes into gaps, other regions and the stream itself.
 */
#ifndef F8_TEST_H
#define F8_TEST_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "f8npu_cmd.h"
#include "f8npu_dev.h"
#include "f8npu_hostmem.h"
#include "f8npu_model.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"

/* Descriptors are memcpy'd into streams: the ABI is little-endian. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the f8npu unit tests assume a little-endian host"
#endif

Suite *f8npu_arith_suite(void);
Suite *f8npu_ops_suite(void);
Suite *f8npu_stream_suite(void);
Suite *f8npu_faults_suite(void);
Suite *f8_backend_suite(void);

/* Generous budget for one job: a hung model fails instead of spinning. */
#define F8T_MAX_CYCLES (1ull << 40)

/* ---- deterministic PRNG (splitmix64) ---- */

struct f8t_rng {
	uint64_t s;
};

/* The run's seed: F8_TEST_SEED if set, else a fixed default. */
extern uint64_t f8t_seed;
void f8t_seed_init(void);

/* A stream per (test name, loop index): reproducible whatever runs first. */
void f8t_rng_init(struct f8t_rng *r, const char *name, int idx);
uint64_t f8t_rand(struct f8t_rng *r);
uint32_t f8t_below(struct f8t_rng *r, uint32_t n);
int64_t f8t_range(struct f8t_rng *r, int64_t lo, int64_t hi);
bool f8t_chance(struct f8t_rng *r, unsigned int percent);
void f8t_fill(struct f8t_rng *r, void *p, size_t n);

/* ---- byte comparison that names the first difference ---- */

/* 0-based offset of the first differing byte, or (size_t)-1 if equal. */
size_t f8t_first_diff(const void *a, const void *b, size_t n);

#define f8_ck_assert_bytes_eq(got, want, len, what)                                            \
	do {                                                                                    \
		const uint8_t *f8_g_ = (const uint8_t *)(got);                                  \
		const uint8_t *f8_w_ = (const uint8_t *)(want);                                 \
		size_t f8_n_ = (len), f8_d_ = f8t_first_diff(f8_g_, f8_w_, f8_n_);              \
		ck_assert_msg(f8_d_ == (size_t)-1,                                              \
			      "%s: first difference at byte %zu of %zu: got 0x%02x, want 0x%02x", \
			      (what), f8_d_, f8_n_, f8_d_ < f8_n_ ? f8_g_[f8_d_] : 0u,             \
			      f8_d_ < f8_n_ ? f8_w_[f8_d_] : 0u);                                 \
	} while (0)

/* ---- the device fixture ---- */

struct f8t_region {
	uint64_t addr;
	uint64_t size;
	int buf; /* host buffer holding the region's start, -1 if none */
};

struct f8t_ctx {
	struct f8npu_hostmem hm;
	struct f8npu_mem mem;
	struct f8npu_model_config cfg;
	struct f8npu_dev *dev;
	struct f8t_region reg[F8NPU_REGIONS];
	uint8_t *cmd; /* last stream written */
	uint64_t cmd_addr;
	uint32_t cmd_size;
	void *scratch; /* f8t_calloc() blocks, freed by teardown */
};

/* The current fixture (checked fixture: f8t_setup / f8t_teardown). */
extern struct f8t_ctx *f8t;
void f8t_setup(void);
void f8t_teardown(void);

/* Fresh model (default config if NULL) and empty host memory. */
void f8t_reset(const struct f8npu_model_config *cfg);

/* Zeroed scratch memory that lives until teardown (safe across failures). */
void *f8t_calloc(size_t n);

/* A zeroed host buffer at a fresh device address. */
uint8_t *f8t_alloc(uint64_t size, uint64_t *addr);
/* A new buffer of @size bytes programmed as region @r; returns its data. */
uint8_t *f8t_region(unsigned int r, uint64_t size);
/* Program region @r at any address (aliases, unbacked memory, size 0). */
void f8t_region_set(unsigned int r, uint64_t addr, uint64_t size);
/* Host pointer to region @r (NULL if its start is not backed). */
uint8_t *f8t_region_data(unsigned int r);
/* A device address range of @size bytes that no host buffer backs. */
uint64_t f8t_unbacked_addr(void);

/* Write header + descriptors into a new buffer of exactly @size bytes. */
uint64_t f8t_stream_raw(const struct f8npu_cmd_header *h, const struct f8npu_desc *d, uint32_t n,
			uint32_t size);
/* A well-formed stream of @n descriptors (CMD_SIZE = 32 + 256 n). */
uint64_t f8t_stream(const struct f8npu_desc *d, uint32_t n);
/* Run the last stream written with f8npu_prog_run_job(). */
void f8t_run_stream(uint32_t n, struct f8npu_job_result *res);
/* Write a stream and run it. */
void f8t_run(const struct f8npu_desc *d, uint32_t n, struct f8npu_job_result *res);

/* Register-level job control, for what prog_run_job hides (irq, doorbell). */
struct f8t_job {
	uint32_t status;
	uint32_t err;
	uint32_t err_index;
	uint32_t irq_status;
	uint32_t head;
	bool irq;
};

void f8t_start(uint64_t base, uint32_t size, uint32_t tail);
/* Run until the device is idle (done, error or waiting for the doorbell). */
void f8t_idle(void);
void f8t_job_read(struct f8t_job *j);
/* f8t_start + f8t_idle + f8t_job_read; IRQ_STATUS is not acknowledged. */
void f8t_run_raw(uint64_t base, uint32_t size, uint32_t tail, struct f8t_job *j);
uint64_t f8t_read64(uint32_t lo);

/* ---- snapshots of all host memory ---- */

struct f8t_snap {
	unsigned int count;
	uint8_t *copy[F8NPU_HOSTMEM_MAX_BUFS];
};

/* Host copies of the regions, for the reference to read and write. */
struct f8t_mem {
	uint8_t *data[F8NPU_REGIONS];
	uint64_t size[F8NPU_REGIONS];
};

void f8t_snap_take(struct f8t_snap *s);
/* The regions as they are in the snapshot (writes go to the snapshot). */
void f8t_snap_mem(struct f8t_snap *s, struct f8t_mem *m);
/* Every live host buffer must equal the snapshot. */
void f8t_snap_check(const struct f8t_snap *s, const char *what);

/* ---- tensors ---- */

unsigned int f8t_tsize(unsigned int type);
struct f8npu_tensor_ref f8t_tensor(uint8_t region, uint8_t type, uint32_t offset, uint16_t n,
				   uint16_t h, uint16_t w, uint16_t c, uint32_t sn, uint32_t sh,
				   uint32_t sw);
struct f8npu_tensor_ref f8t_dense(uint8_t region, uint8_t type, uint32_t offset, uint16_t n,
				  uint16_t h, uint16_t w, uint16_t c);
/* Footprint length (isa.md §2) and element bytes (isa.md §7). */
uint64_t f8t_extent(const struct f8npu_tensor_ref *t);
uint64_t f8t_bytes(const struct f8npu_tensor_ref *t);
/* Store @v as element (i, y, x, k) of @t in @m (filling inputs). */
void f8t_put(struct f8t_mem *m, const struct f8npu_tensor_ref *t, unsigned int i, unsigned int y,
	     unsigned int x, unsigned int k, int64_t v);

/* ---- independent arithmetic (docs/arith.md), not f8npu_arith.h ---- */

int64_t f8t_sat32(int64_t v);
int64_t f8t_shift(int64_t v, int s);
int64_t f8t_sat(int64_t v, unsigned int type);
int64_t f8t_load(const uint8_t *p, unsigned int type);
void f8t_store(uint8_t *p, unsigned int type, int64_t v);

/* ---- naive reference of one descriptor (docs/isa.md §4, arith.md §3, A8) ---- */

/* Output shape of a compute descriptor. */
void f8t_out_shape(const struct f8npu_desc *d, unsigned int *n, unsigned int *h, unsigned int *w,
		   unsigned int *c);
/* v2 of A8 (after aux add and ReLU) of every output element, [n][h][w][c]. */
int64_t *f8t_ref_v2(const struct f8npu_desc *d, const struct f8t_mem *m, size_t *count);
/* Execute a compute descriptor on @m (END: nothing). */
void f8t_ref_exec(const struct f8npu_desc *d, struct f8t_mem *m);

/* Counters of isa.md §7, derived from the descriptors alone. */
struct f8t_cost {
	uint64_t macs;
	uint64_t rd;
	uint64_t wr;
	uint64_t compute;
	uint64_t cycles;
	uint32_t descs;
};

void f8t_cost_header(const struct f8npu_model_config *cfg, struct f8t_cost *c);
/* One fetched descriptor; @executed: it completed (END included). */
void f8t_cost_desc(const struct f8npu_desc *d, bool executed, const struct f8npu_model_config *cfg,
		   struct f8t_cost *c);
/* Compare the architectural counters (MACs, bytes, descs) with @want. */
void f8t_check_perf(const struct f8t_cost *want, const char *what);
/* Also the timing counters (cycles, stall) of the model's cost model. */
void f8t_check_timing(const struct f8t_cost *want, const char *what);

/* A shift that maps |v| <= @maxabs onto the range of @type, +- @jitter. */
int f8t_pick_shift(struct f8t_rng *r, int64_t maxabs, unsigned int type, int jitter);
int64_t f8t_maxabs(const int64_t *v, size_t n);

#endif /* F8_TEST_H */
