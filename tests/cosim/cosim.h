/* SPDX-License-Identifier: MIT */
/*
 * f8-cosim: the RTL against the functional model, through the one device
 * interface (f8npu_dev.h). Each case is a job (host memory image, region
 * table, one or more command streams) built from the seed and the case
 * number alone, loaded into two identical host memories, run on both devices
 * with the same register accesses, and compared: every byte of memory, the
 * job registers and the architectural counters (never cycles or stalls).
 *
 * Files: cosim.c (options, loop, summary), cosim-gen.c (random jobs),
 * cosim-fault.c (mutations that hit each error code), cosim-dev.c (the
 * device pair: loading, running, comparing, reporting), cosim-scen.c (how a
 * job is driven: plain, prog layer, doorbell, soft reset, IRQ, back to back),
 * cosim-dump.c (--dump), fake_rtl.c (model stand-in for the RTL library).
 */
#ifndef COSIM_H
#define COSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "f8npu_build.h"
#include "f8npu_cmd.h"
#include "f8npu_dev.h"
#include "f8npu_hostmem.h"
#include "f8npu_model.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "f8-cosim copies descriptors as bytes: it assumes a little-endian host"
#endif

/* ---- deterministic PRNG (splitmix64) ---- */

struct cs_rng {
	uint64_t s;
};

static inline uint64_t cs_rand(struct cs_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* 0 .. n-1 (0 if n == 0). */
static inline uint32_t cs_below(struct cs_rng *r, uint32_t n)
{
	return n ? (uint32_t)(cs_rand(r) % n) : 0;
}

/* lo .. hi inclusive. */
static inline int64_t cs_range(struct cs_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(cs_rand(r) % (uint64_t)(hi - lo + 1));
}

static inline bool cs_chance(struct cs_rng *r, unsigned int percent)
{
	return cs_below(r, 100) < percent;
}

/* The generator of case @idx under @seed: independent of every other case. */
void cs_rng_case(struct cs_rng *r, uint64_t seed, uint32_t idx);

/* ---- a job: what one case loads and runs ---- */

#define CS_TOP_PAGE 4096u /* bytes of memory at the top of the address space (cs_side.top) */
#define CS_MAX_BUFS 24u	   /* host buffers per job (hostmem allows 32) */
#define CS_MAX_DESCS 12u   /* descriptors per stream, END and trailers included */
#define CS_MAX_STREAMS 3u  /* streams run back to back on one region table */
#define CS_MAX_COMPUTE 8u  /* compute descriptors per stream */

/* A region table entry. */
struct cs_region {
	bool on;       /* programmed; otherwise left at size 0 */
	int buf;       /* buffer its base is relative to; -1: @abs is the base */
	uint64_t off;  /* base = address of @buf + @off (multiple of 4) */
	uint64_t abs;  /* base when @buf < 0 */
	uint64_t size; /* REGION_SIZE */
};

/* A command stream and where it lives. */
struct cs_stream {
	int buf;	   /* buffer holding it */
	uint64_t off;	   /* CMD_BASE = buffer address + @off (may lie past the buffer) */
	uint32_t top;	   /* non-zero: CMD_BASE = 2^64 - @top instead */
	bool top_backed;   /* with @top: its first @top bytes are in the top page (else nothing is) */
	uint32_t cmd_size; /* CMD_SIZE */
	uint32_t stored;   /* bytes of the stream present in the buffer at @off */
	uint64_t buf_len;  /* size of that buffer; 0: @off + @stored + a random tail */
	uint32_t tail;	   /* TAIL the plain flows ring */
	uint32_t ncompute; /* compute descriptors generated (before END) */
	struct f8npu_cmd_header hdr;
	uint32_t ndesc; /* descriptors written after the header */
	struct f8npu_desc d[CS_MAX_DESCS];
};

struct cs_job {
	unsigned int nbufs;
	uint64_t buf_size[CS_MAX_BUFS];
	uint8_t *image[CS_MAX_BUFS]; /* initial contents of each buffer */
	struct cs_region reg[F8NPU_REGIONS];
	unsigned int nstreams;
	struct cs_stream s[CS_MAX_STREAMS];
	int fault;	     /* intended error code of the mutation, 0: a valid job */
	int fault_stream;    /* stream the mutation went into */
	bool fault_double;   /* a second mutation was applied on top */
	char fault_what[200]; /* what was mutated, for the report */
	uint64_t est_cycles; /* estimated cycles of the job (generator's cost model) */
};

/* Generator parameters. */
struct cs_gen_cfg {
	uint32_t rows, cols;	  /* the array: bounds the cost of a layer */
	uint64_t max_desc_cycles; /* estimated cycles allowed per compute descriptor */
	bool big;		  /* larger layers (h, w up to 24, c up to 96) past the on-chip buffers */
};

/* A valid job: @ncompute compute descriptors (1 = a single-descriptor case) + END. */
void cs_gen_job(struct cs_rng *r, const struct cs_gen_cfg *cfg, unsigned int nstreams,
		unsigned int ncompute, struct cs_job *job);
/* Write the streams into their buffers' images (after any mutation). */
void cs_job_seal(struct cs_rng *r, struct cs_job *job);
void cs_job_free(struct cs_job *job);
/* Add a buffer of @size random bytes; its index, or -1 if the job is full. */
int cs_job_add_buf(struct cs_rng *r, struct cs_job *job, uint64_t size);
/* Fill @n bytes with the generator's data distribution. */
void cs_fill_bytes(struct cs_rng *r, uint8_t *p, uint64_t n);

/* Mutate stream @job->fault_stream so that it hits error @code (1..15). */
void cs_fault_apply(struct cs_rng *r, struct cs_job *job, int code);

/* Footprint of a tensor reference (isa.md §2), without overflow. */
uint64_t cs_extent(const struct f8npu_tensor_ref *t);

/* ---- the device pair ---- */

enum { CS_MODEL = 0, CS_RTL = 1 };

struct cs_side {
	const char *name;
	struct f8npu_dev *dev;
	struct f8npu_hostmem hm; /* stable storage: the device's mem port points here */
	struct f8npu_mem port;	 /* the device's memory port (kept: a harness may keep the pointer) */
	uint8_t top[CS_TOP_PAGE]; /* memory at [2^64 - CS_TOP_PAGE, 2^64), beside @hm, */
	bool top_on;		  /* ... while a stream of the job lives there */
	uint64_t cycles;	 /* cycles spent in run(), whole program */
};

struct cs_stats {
	uint64_t cases, singles, streams, jobs;
	uint64_t descs_gen, descs_exec;
	uint64_t done;
	uint64_t err_hits[F8NPU_ERR_COUNT_];
	uint64_t fault_cases, fault_missed; /* mutations whose intended code the model did not report */
	uint64_t gen_invalid;		    /* valid jobs the model refused: a generator bug */
	uint64_t doorbells, soft_resets, prog_jobs, irq_checks, b2b, perf_clears;
	uint64_t mismatches; /* failing cases */
	uint64_t dw_fast, dw_slow; /* depthwise CONV2Ds generated, by RTL path (f8npu_model_dw_fast) */
	uint64_t conv_pack; /* CONV2Ds (groups = 1) generated on the RTL's tap packing (f8npu_model_conv_pack) */
	uint64_t conv_gi;   /* CONV2Ds generated on the RTL's group-inner order (f8npu_model_conv_gi) */
	uint64_t model_job_cycles, rtl_job_cycles; /* PERF_CYCLES summed over jobs */
};

struct cs_opts {
	const char *argv0;
	uint64_t seed;
	uint32_t cases, streams;
	int64_t only; /* --case K, or -1 */
	bool verbose;
	const char *vcd;
	const char *dump_dir;
	uint32_t max_fail;
	uint64_t max_desc_cycles;
};

struct cs_pair {
	struct cs_side side[2];
	uint32_t rows, cols;
	char cfg_name[32];
	const struct cs_opts *opt;
	struct cs_stats *st;

	/* The case being run (for reports). */
	uint32_t case_idx;
	const char *case_kind;
	struct cs_job *job;
	int cur_stream;	     /* stream of the job being run, -1: none */
	char flow[128];	     /* what the scenario did so far */
	bool failed;	     /* a mismatch in this case */
	bool reported;	     /* the case header was printed */
};

/* Create both devices (the RTL once, reused by every case). 0 on success. */
int cs_pair_init(struct cs_pair *p, const struct cs_opts *opt, struct cs_stats *st);
void cs_pair_fini(struct cs_pair *p);

/* Load @job's buffers into both host memories (identical addresses). */
void cs_pair_load(struct cs_pair *p, struct cs_job *job);
/* Put the job's initial contents back into both memories (after a partial run). */
void cs_pair_restore(struct cs_pair *p);
/* A register of the model alone (statistics; no comparison). */
uint32_t cs_model_reg(struct cs_pair *p, uint32_t off);
/* Device address of buffer @b, of region @r's base, of stream @s's CMD_BASE. */
uint64_t cs_buf_addr(const struct cs_pair *p, int b);
uint64_t cs_region_base(const struct cs_pair *p, const struct cs_job *job, unsigned int r);
uint64_t cs_stream_base(const struct cs_pair *p, const struct cs_job *job, unsigned int s);

/* Register access on both devices, in the same order. */
void cs_write(struct cs_pair *p, uint32_t off, uint32_t val);
/* Read @off from both; a difference is a mismatch. Returns the model's value. */
uint32_t cs_read(struct cs_pair *p, uint32_t off, const char *what);
/* Program the region table and CMD_BASE / CMD_SIZE of stream @s. */
void cs_program(struct cs_pair *p, unsigned int s);

/*
 * Run both until idle (done, error or waiting for the doorbell). The RTL may
 * take cs_hang_budget() cycles, then it is hung (a mismatch). Returns false then.
 */
bool cs_run_idle(struct cs_pair *p, const char *what);
/* Cycles the RTL may take for work the model did in @model_cycles before it counts as hung. */
uint64_t cs_hang_budget(const struct cs_pair *p, uint64_t model_cycles);
/* Run each side for about @budget[side] cycles (no comparison: timing differs). */
void cs_run_budget(struct cs_pair *p, const uint64_t budget[2]);

/* The job registers, the interrupt line and the architectural counters. */
void cs_cmp_state(struct cs_pair *p, const char *what);
/* Every register offset that is not timing or IMPL, undefined ones included. */
void cs_cmp_regs(struct cs_pair *p, const char *what);
/* Every byte of every buffer; with @bus_excl, minus the dst footprints of the descriptor
 * the model stopped at with BUS (the RTL may have written part of them), which are then
 * copied from the model's memory to the RTL's so that later jobs start from equal memory. */
void cs_cmp_mem(struct cs_pair *p, bool bus_excl, const char *what);

/* Report a mismatch of the current case (prints the case once, then @fmt). */
void cs_fail(struct cs_pair *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print the job (region table, streams, descriptors). */
void cs_print_job(FILE *f, const struct cs_pair *p, const struct cs_job *job);
void cs_print_desc(FILE *f, uint32_t idx, const struct f8npu_desc *d);

/* Count the outcome of the job that just ended on the model (error codes hit). */
void cs_count_outcome(struct cs_pair *p);

/* ---- scenarios (cosim-scen.c) ---- */

/* Run case @idx end to end. Returns true if RTL == model. */
bool cs_run_case(struct cs_pair *p, uint32_t idx);

/* ---- dump (cosim-dump.c) ---- */

/* Write the failing job (streams, regions, both memories) under @dir/case-K. */
void cs_dump_case(struct cs_pair *p, const char *dir);

#endif /* COSIM_H */
