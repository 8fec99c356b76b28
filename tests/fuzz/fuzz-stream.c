// SPDX-License-Identifier: MIT
/*
 * fuzz-stream: hostile command streams against the functional model.
 *
 * Property (docs/isa.md §5, "Safety" in docs/regs.md): whatever the bytes of
 * the stream, the device ends in DONE or with a documented error code, within
 * a bounded number of cycles, and it never writes outside the job's regions:
 * the command buffer and a guard buffer that no region names stay intact.
 * Under ASan/UBSan any out-of-bounds host access or undefined behaviour in the
 * model aborts the run.
 *
 * Two entry points:
 * - LLVMFuzzerTestOneInput (build with clang -fsanitize=fuzzer -DF8_LIBFUZZER)
 *   takes the input as the stream itself;
 * - main() (what `make check` runs) mutates well-formed streams: structured
 *   mutations of the fields that matter, plus raw byte noise, from a seed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "f8-backend.h"
#include "f8npu_build.h"

#define FUZZ_REGIONS 4
#define FUZZ_REGION_SIZE 4096u
#define FUZZ_GUARD_SIZE 4096u
#define FUZZ_MAX_STREAM (F8NPU_CMD_HEADER_SIZE + 8 * F8NPU_CMD_DESC_SIZE)
#define FUZZ_MAX_CYCLES (1ull << 32)

static void fuzz_fail(const char *why, const uint8_t *data, size_t size)
{
	size_t i;

	fprintf(stderr, "fuzz-stream: FAILED: %s\nstream (%zu bytes):", why, size);
	for (i = 0; i < size; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n  ", data[i]);
	fprintf(stderr, "\n");
	abort();
}

/*
 * Run one stream on the ref backend (the job-level interface the runtime uses, so the
 * fuzzer covers its submit path too); abort on a violated property. Returns the error code
 * (0: DONE).
 */
static uint32_t fuzz_one(const uint8_t *data, size_t size)
{
	struct f8_be *be;
	struct f8_be_buf guard, cmd, region[FUZZ_REGIONS];
	struct f8_be_job job;
	struct f8npu_job_result res;
	struct f8_err e;
	uint8_t guard_copy[FUZZ_GUARD_SIZE];
	uint32_t i;

	if (size > 0xffffffffu)
		return 0;
	if (f8_be_open("ref", &be, &e))
		fuzz_fail(e.msg, data, size);
	/* The guard comes first: the buffer just below the stream that no region names. */
	if (f8_be_alloc(be, FUZZ_GUARD_SIZE, &guard, &e) || f8_be_alloc(be, size ? size : 1, &cmd, &e))
		fuzz_fail(e.msg, data, size);
	for (i = 0; i < FUZZ_GUARD_SIZE; i++)
		guard.ptr[i] = (uint8_t)(i * 31 + 7);
	memcpy(guard_copy, guard.ptr, sizeof(guard_copy));
	if (size)
		memcpy(cmd.ptr, data, size);
	memset(&job, 0, sizeof(job));
	job.cmd = &cmd;
	job.cmd_size = (uint32_t)size;
	job.max_cycles = FUZZ_MAX_CYCLES;
	for (i = 0; i < FUZZ_REGIONS; i++) {
		uint32_t b;

		if (f8_be_alloc(be, FUZZ_REGION_SIZE, &region[i], &e))
			fuzz_fail(e.msg, data, size);
		for (b = 0; b < FUZZ_REGION_SIZE; b++)
			region[i].ptr[b] = (uint8_t)(b * 13 + i);
		job.region[i] = &region[i];
	}
	/* The header's desc_count rings the whole stream (the backend reads it). */
	if (f8_be_submit(be, &job, &res, &e))
		fuzz_fail(e.msg, data, size);
	if (res.timed_out)
		fuzz_fail("the device neither finished nor failed (hang)", data, size);
	if (!res.done && (res.err == 0 || res.err >= F8NPU_ERR_COUNT_))
		fuzz_fail("the job ended without DONE or a documented error code", data, size);
	if (res.done && res.err)
		fuzz_fail("DONE together with an error", data, size);
	if (memcmp(guard.ptr, guard_copy, sizeof(guard_copy)))
		fuzz_fail("memory outside the job's regions (guard) changed", data, size);
	if (size && memcmp(cmd.ptr, data, size))
		fuzz_fail("the command stream changed (it is not a region)", data, size);

	f8_be_close(be); /* frees every buffer */
	return res.done ? 0 : res.err;
}

#ifdef F8_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size <= FUZZ_MAX_STREAM)
		fuzz_one(data, size);
	return 0;
}
#else

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Well-formed starting points: one of each operation over the four regions. */
static uint32_t make_seed(uint8_t *buf, unsigned int which)
{
	struct f8npu_desc d[3];
	struct f8npu_cmd_header h;
	uint32_t n = 0;

	d[n] = f8npu_desc_zero(F8NPU_OP_CONV2D);
	switch (which % 4) {
	case 0: /* 3x3 conv, bias, relu, two outputs */
		d[n].flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_RELU | F8NPU_FLAG_DST1;
		d[n].kernel_h = d[n].kernel_w = 3;
		d[n].stride_h = d[n].stride_w = 1;
		d[n].pad_top = d[n].pad_bottom = d[n].pad_left = d[n].pad_right = 1;
		d[n].src = f8npu_tensor_dense(0, F8NPU_TYPE_U8, 0, 1, 6, 6, 5);
		d[n].weights = f8npu_buffer_at(1, 0);
		d[n].bias = f8npu_buffer_at(2, 0);
		d[n].dst[0] = f8npu_tensor_dense(3, F8NPU_TYPE_U8, 0, 1, 6, 6, 7);
		d[n].dst[1] = f8npu_tensor_dense(3, F8NPU_TYPE_S32, 1024, 1, 6, 6, 7);
		d[n].out_shift[0] = 6;
		break;
	case 1: /* depthwise stride 2 with an int32 residual */
		d[n].flags = F8NPU_FLAG_DEPTHWISE | F8NPU_FLAG_AUX;
		d[n].kernel_h = d[n].kernel_w = 3;
		d[n].stride_h = d[n].stride_w = 2;
		d[n].pad_bottom = d[n].pad_right = 1;
		d[n].src = f8npu_tensor_dense(0, F8NPU_TYPE_S8, 0, 1, 7, 7, 6);
		d[n].weights = f8npu_buffer_at(1, 0);
		d[n].aux = f8npu_tensor_dense(2, F8NPU_TYPE_S32, 0, 1, 4, 4, 6);
		d[n].align_aux = 3;
		d[n].dst[0] = f8npu_tensor_dense(3, F8NPU_TYPE_S8, 0, 1, 4, 4, 6);
		d[n].out_shift[0] = 4;
		break;
	case 2: /* max pool then global sum pool */
		d[n] = f8npu_desc_zero(F8NPU_OP_POOL_MAX);
		d[n].kernel_h = d[n].kernel_w = d[n].stride_h = d[n].stride_w = 2;
		d[n].src = f8npu_tensor_dense(0, F8NPU_TYPE_U8, 0, 2, 8, 8, 3);
		d[n++].dst[0] = f8npu_tensor_dense(3, F8NPU_TYPE_U8, 0, 2, 4, 4, 3);
		d[n] = f8npu_desc_zero(F8NPU_OP_POOL_SUM);
		d[n].kernel_h = d[n].kernel_w = 4;
		d[n].stride_h = d[n].stride_w = 1;
		d[n].src = f8npu_tensor_dense(3, F8NPU_TYPE_U8, 0, 2, 4, 4, 3);
		d[n].dst[0] = f8npu_tensor_dense(2, F8NPU_TYPE_S32, 0, 2, 1, 1, 3);
		break;
	default: /* elementwise add with ReLU */
		d[n] = f8npu_desc_zero(F8NPU_OP_ADD);
		d[n].flags = F8NPU_FLAG_AUX | F8NPU_FLAG_RELU;
		d[n].src = f8npu_tensor_dense(0, F8NPU_TYPE_S32, 0, 1, 5, 5, 9);
		d[n].aux = f8npu_tensor_dense(1, F8NPU_TYPE_U8, 0, 1, 5, 5, 9);
		d[n].align_src = 2;
		d[n].dst[0] = f8npu_tensor_dense(3, F8NPU_TYPE_U8, 0, 1, 5, 5, 9);
		d[n].out_shift[0] = -1;
		break;
	}
	n++;
	d[n++] = f8npu_desc_zero(F8NPU_OP_END);
	h = f8npu_header_make(n);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), d, n * sizeof(d[0]));
	return F8NPU_CMD_HEADER_SIZE + n * F8NPU_CMD_DESC_SIZE;
}

/* Byte offsets inside a descriptor that carry meaning (not reserved). */
static const uint8_t live_offsets[] = {
	0,  1,	4,  5,	6,  7,	8,  9,	10, 11, 12, 13, 16, 17,
	/* src, aux, dst0, dst1: region, type, offset, n/h/w/c, strides */
	32, 33, 36, 37, 40, 42, 44, 46, 48, 49, 52, 53, 56, 57,
	64, 65, 68, 69, 72, 74, 76, 78, 80, 81, 84, 85, 88, 89,
	96, 97, 100, 101, 104, 106, 108, 110, 112, 113, 116, 117, 120, 121,
	128, 129, 132, 133, 136, 138, 140, 142, 144, 145, 148, 149, 152, 153,
	160, 164, 165, 168, 172, 173,
};

static const uint8_t edge_values[] = { 0, 1, 2, 3, 4, 15, 16, 17, 31, 32, 0x7f, 0x80, 0x81, 0xe0, 0xfe, 0xff };

static void mutate(uint8_t *buf, uint32_t *len)
{
	unsigned int k, count = 1 + (unsigned int)(rnd() % 4);

	for (k = 0; k < count; k++) {
		uint64_t r = rnd();
		uint32_t ndesc = *len > F8NPU_CMD_HEADER_SIZE ? (*len - F8NPU_CMD_HEADER_SIZE) / F8NPU_CMD_DESC_SIZE : 0;
		uint32_t at;

		switch (r % 8) {
		case 0: /* raw noise anywhere */
			if (*len)
				buf[(r >> 8) % *len] = (uint8_t)(r >> 40);
			break;
		case 1: /* header fields */
			buf[(r >> 8) % F8NPU_CMD_HEADER_SIZE] = edge_values[(r >> 32) % sizeof(edge_values)];
			break;
		case 2: /* truncate or extend the buffer */
			*len = (uint32_t)((r >> 8) % (FUZZ_MAX_STREAM + 1));
			break;
		default: /* a field that matters, set to an edge or random value */
			if (!ndesc)
				break;
			at = F8NPU_CMD_HEADER_SIZE + (uint32_t)((r >> 8) % ndesc) * F8NPU_CMD_DESC_SIZE +
			     live_offsets[(r >> 16) % sizeof(live_offsets)];
			buf[at] = (r >> 63) ? (uint8_t)(r >> 40) : edge_values[(r >> 32) % sizeof(edge_values)];
			break;
		}
	}
}

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	const char *seed_env = getenv("F8_TEST_SEED");
	unsigned long it, by_code[F8NPU_ERR_COUNT_] = { 0 };
	uint8_t buf[FUZZ_MAX_STREAM];
	unsigned int c, codes_seen = 0;

	rng_state = seed_env ? strtoull(seed_env, NULL, 0) : 1;
	printf("fuzz-stream: %lu mutated streams, seed %llu\n", iters, (unsigned long long)rng_state);
	for (it = 0; it < iters; it++) {
		uint32_t len;

		memset(buf, 0, sizeof(buf));
		len = make_seed(buf, (unsigned int)(rnd() % 4));
		mutate(buf, &len);
		by_code[fuzz_one(buf, len)]++;
	}
	for (c = 0; c < F8NPU_ERR_COUNT_; c++)
		codes_seen += by_code[c] != 0;
	printf("fuzz-stream: outcomes:");
	for (c = 0; c < F8NPU_ERR_COUNT_; c++)
		if (by_code[c])
			printf(" %s=%lu", c ? f8npu_err_name(c) : "DONE", by_code[c]);
	printf("\n");
	/* The mutations must reach deep: most error codes and real completions. */
	if (codes_seen < 12 || by_code[0] == 0) {
		printf("fuzz-stream: only %u outcomes reached; the mutator is too shallow\n", codes_seen);
		return 1;
	}
	printf("fuzz-stream: %lu passed, 0 failed\n", iters);
	return 0;
}
#endif
