// SPDX-License-Identifier: MIT
/*
 * Suite "backend": the job-level backend table (f8-backend.h). A real CONV2D stream on
 * ref equals sim's reference kernel bit for bit; bad specs give their documented status;
 * the budget, device errors and misuse are reported as documented. With F8_RTL_DIR set
 * (make backend-rtl), the same stream on rtl:4x4 and rtl:16x16, both in this process,
 * equals ref.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "f8-backend.h"
#include "f8-test.h"
#include "f8npu_build.h"
#include "f8npu_ref.h"

enum { BT_SRC, BT_W, BT_BIAS, BT_DST, BT_NREG };

/* One padded 3x3 CONV2D with bias and ReLU, 12 -> 10 channels: groups on a 4x4 array. */
#define BT_H 7
#define BT_CIN 12
#define BT_COUT 10

struct bt_job {
	struct f8_be *be;
	struct f8_be_buf reg[BT_NREG], cmd;
	struct f8npu_desc desc[2];
	uint32_t cmd_size;
};

static struct f8npu_desc bt_conv(void)
{
	struct f8npu_desc d = f8npu_desc_zero(F8NPU_OP_CONV2D);

	d.flags = F8NPU_FLAG_BIAS | F8NPU_FLAG_RELU;
	d.kernel_h = d.kernel_w = 3;
	d.stride_h = d.stride_w = 1;
	d.pad_top = d.pad_bottom = d.pad_left = d.pad_right = 1;
	d.out_shift[0] = 7;
	d.src = f8npu_tensor_dense(BT_SRC, F8NPU_TYPE_U8, 0, 1, BT_H, BT_H, BT_CIN);
	d.dst[0] = f8npu_tensor_dense(BT_DST, F8NPU_TYPE_U8, 0, 1, BT_H, BT_H, BT_COUT);
	d.weights = f8npu_buffer_at(BT_W, 0);
	d.bias = f8npu_buffer_at(BT_BIAS, 0);
	return d;
}

static const uint64_t bt_size[BT_NREG] = {
	BT_H * BT_H * BT_CIN, BT_COUT * 9 * BT_CIN, 4 * BT_COUT, BT_H * BT_H * BT_COUT
};

/* Open @spec, allocate the regions with deterministic inputs, write @d + END. */
static void bt_open(struct bt_job *j, const char *spec, const struct f8npu_desc *d)
{
	struct f8npu_cmd_header h = f8npu_header_make(2);
	struct f8t_rng rng;
	struct f8_err e = { { 0 } };
	int r;

	memset(j, 0, sizeof(*j));
	ck_assert_msg(f8_be_open(spec, &j->be, &e) == F8_OK, "%s: %s", spec, e.msg);
	f8t_rng_init(&rng, "backend", 0);
	for (r = 0; r < BT_NREG; r++) {
		ck_assert_int_eq(f8_be_alloc(j->be, bt_size[r], &j->reg[r], &e), F8_OK);
		if (r != BT_DST)
			f8t_fill(&rng, j->reg[r].ptr, bt_size[r]);
	}
	/* Bias within +-2^16 keeps the outputs spread over u8 after the shift. */
	for (r = 0; r < BT_COUT; r++) {
		int32_t b = (int32_t)f8t_range(&rng, -65536, 65536);

		memcpy(j->reg[BT_BIAS].ptr + 4 * r, &b, 4);
	}
	j->desc[0] = *d;
	j->desc[1] = f8npu_desc_zero(F8NPU_OP_END);
	j->cmd_size = F8NPU_CMD_HEADER_SIZE + sizeof(j->desc);
	ck_assert_int_eq(f8_be_alloc(j->be, j->cmd_size, &j->cmd, &e), F8_OK);
	memcpy(j->cmd.ptr, &h, sizeof(h));
	memcpy(j->cmd.ptr + sizeof(h), j->desc, sizeof(j->desc));
}

static void bt_submit(struct bt_job *j, uint64_t max_cycles, struct f8npu_job_result *res)
{
	struct f8_be_job job = { .cmd = &j->cmd, .cmd_size = j->cmd_size, .max_cycles = max_cycles };
	struct f8_err e = { { 0 } };
	int r;

	for (r = 0; r < BT_NREG; r++)
		job.region[r] = &j->reg[r];
	ck_assert_msg(f8_be_submit(j->be, &job, res, &e) == F8_OK, "%s: %s", j->be->spec, e.msg);
}

static void bt_close(struct bt_job *j)
{
	int r;

	for (r = 0; r < BT_NREG; r++)
		f8_be_free(j->be, &j->reg[r]);
	f8_be_free(j->be, &j->cmd);
	f8_be_close(j->be);
}

/* What sim's reference kernel makes of the job's inputs: the expected dst region. */
static uint8_t *bt_expected(const struct bt_job *j)
{
	const struct f8npu_desc *d = &j->desc[0];
	struct f8npu_ref_args a;
	uint8_t *src = f8t_calloc(bt_size[BT_SRC]), *dst = f8t_calloc(bt_size[BT_DST]);

	memcpy(src, j->reg[BT_SRC].ptr, bt_size[BT_SRC]);
	memset(&a, 0, sizeof(a));
	a.d = d;
	f8npu_view_init(&a.src, &d->src, src + d->src.offset);
	f8npu_view_init(&a.dst[0], &d->dst[0], dst + d->dst[0].offset);
	a.weights = j->reg[BT_W].ptr;
	a.bias = j->reg[BT_BIAS].ptr;
	f8npu_ref_run(&a);
	return dst;
}

START_TEST(test_ref_caps)
{
	struct f8_be *be;
	struct f8_err e = { { 0 } };

	ck_assert_int_eq(f8_be_open("ref", &be, &e), F8_OK);
	ck_assert_str_eq(be->spec, "ref");
	ck_assert_uint_eq(be->caps.hw_id, F8NPU_ID_VALUE);
	ck_assert_uint_eq(be->caps.hw_version >> 16, F8NPU_HW_VERSION_MAJOR);
	ck_assert_uint_eq(be->caps.cmd_version >> 16, F8NPU_CMD_VERSION_MAJOR);
	ck_assert_uint_eq(be->caps.rows, 16);
	ck_assert_uint_eq(be->caps.cols, 16);
	ck_assert_uint_eq(be->caps.ops, 0x3e);
	ck_assert_uint_eq(be->caps.regions, F8NPU_REGIONS);
	ck_assert_uint_eq(be->caps.max_k, F8NPU_MAX_K);
	ck_assert_int_eq(be->caps.shift_min, -31);
	ck_assert_int_eq(be->caps.shift_max, 31);
	ck_assert_uint_eq(be->caps.align_max, 31);
	ck_assert_uint_eq(be->caps.types, 0x7);
	f8_be_close(be);
	ck_assert_int_eq(f8_be_open("ref:4x8,bw=8,lat=0", &be, &e), F8_OK);
	ck_assert_uint_eq(be->caps.rows, 4);
	ck_assert_uint_eq(be->caps.cols, 8);
	f8_be_close(be);
	f8_be_close(NULL); /* a no-op */
}
END_TEST

START_TEST(test_ref_alloc)
{
	struct f8_be *be;
	struct f8_be_buf a, b, c;
	struct f8_err e = { { 0 } };
	uint64_t i;

	ck_assert_int_eq(f8_be_open("ref", &be, &e), F8_OK);
	ck_assert_int_eq(f8_be_alloc(be, 5000, &a, &e), F8_OK);
	ck_assert_int_eq(f8_be_alloc(be, 100, &b, &e), F8_OK);
	ck_assert_uint_eq(a.size, 5000);
	for (i = 0; i < a.size; i++)
		ck_assert_uint_eq(a.ptr[i], 0);
	/* Distinct, 4 KiB aligned, with a gap: one byte past a buffer is no other buffer. */
	ck_assert_uint_eq(a.dev_addr % 4096, 0);
	ck_assert_uint_eq(b.dev_addr % 4096, 0);
	ck_assert(b.dev_addr > a.dev_addr + a.size);
	f8_be_free(be, &a);
	ck_assert_ptr_null(a.ptr);
	f8_be_free(be, &a); /* freed twice: a no-op */
	ck_assert_int_eq(f8_be_alloc(be, 64, &c, &e), F8_OK);
	ck_assert(c.dev_addr > b.dev_addr); /* a freed address is never handed out again */
	ck_assert_int_eq(f8_be_alloc(be, 0, &a, &e), F8_ERR_RANGE);
	f8_be_free(be, &b);
	f8_be_free(be, &c);
	f8_be_close(be);
}
END_TEST

START_TEST(test_ref_conv)
{
	struct f8npu_desc d = bt_conv();
	struct f8npu_job_result res;
	struct bt_job j;
	uint8_t *want;

	bt_open(&j, "ref", &d);
	want = bt_expected(&j);
	bt_submit(&j, 0, &res);
	ck_assert_msg(res.done && !res.err && !res.timed_out, "err %u at %u", res.err, res.err_index);
	f8_ck_assert_bytes_eq(j.reg[BT_DST].ptr, want, bt_size[BT_DST], "ref conv output");
	/* This job's counters: isa.md §7's MACs, 2 descriptors, the output bytes. */
	ck_assert_uint_eq(res.perf.macs, (uint64_t)BT_H * BT_H * BT_COUT * 9 * BT_CIN);
	ck_assert_uint_eq(res.perf.descs, 2);
	ck_assert_uint_eq(res.perf.wr_bytes, bt_size[BT_DST]);
	ck_assert_uint_eq(res.cycles, res.perf.cycles);
	/* A second job reports its own counters, not the sum. */
	bt_submit(&j, 0, &res);
	ck_assert_uint_eq(res.perf.descs, 2);
	ck_assert_uint_eq(res.perf.macs, (uint64_t)BT_H * BT_H * BT_COUT * 9 * BT_CIN);
	bt_close(&j);
}
END_TEST

/* The budget: the job's own cycles fit; one fewer stops before the step that would pass it. */
START_TEST(test_ref_budget)
{
	struct f8npu_desc d = bt_conv();
	struct f8npu_job_result res;
	struct bt_job j;
	uint64_t need;

	bt_open(&j, "ref", &d);
	bt_submit(&j, 0, &res);
	ck_assert(res.done);
	need = res.perf.cycles;
	memset(j.reg[BT_DST].ptr, 0, bt_size[BT_DST]);
	bt_submit(&j, need, &res);
	ck_assert(res.done && !res.timed_out);
	/* need - 1: the conv fits, END's fetch does not. */
	bt_submit(&j, need - 1, &res);
	ck_assert(res.timed_out);
	ck_assert(!res.done);
	ck_assert_uint_le(res.cycles, need - 1);
	ck_assert_uint_eq(res.perf.descs, 1);
	/* The header fits, the conv would not: it is never started, its output untouched. */
	memset(j.reg[BT_DST].ptr, 0xaa, bt_size[BT_DST]);
	bt_submit(&j, f8npu_model_header_cycles(NULL, j.cmd_size) + 1, &res);
	ck_assert(res.timed_out && !res.done);
	ck_assert_uint_eq(res.cycles, f8npu_model_header_cycles(NULL, j.cmd_size));
	ck_assert_uint_eq(res.perf.macs, 0);
	ck_assert_uint_eq(res.perf.descs, 0);
	ck_assert_uint_eq(j.reg[BT_DST].ptr[0], 0xaa);
	ck_assert_uint_eq(j.reg[BT_DST].ptr[bt_size[BT_DST] - 1], 0xaa);
	bt_submit(&j, 1, &res);
	ck_assert(res.timed_out && !res.done);
	ck_assert_uint_eq(res.cycles, 0);
	/* The device was soft-reset after a timeout: the next job runs normally. */
	bt_submit(&j, 0, &res);
	ck_assert(res.done);
	bt_close(&j);
}
END_TEST

START_TEST(test_ref_device_error)
{
	struct f8npu_desc d = bt_conv();
	struct f8npu_job_result res;
	struct bt_job j;

	/* The output one byte past its region: OOB_WRITE at descriptor 0, nothing written. */
	d.dst[0] = f8npu_tensor_dense(BT_DST, F8NPU_TYPE_U8, 1, 1, BT_H, BT_H, BT_COUT);
	bt_open(&j, "ref", &d);
	bt_submit(&j, 0, &res);
	ck_assert(!res.done && !res.timed_out);
	ck_assert_uint_eq(res.err, F8NPU_ERR_OOB_WRITE);
	ck_assert_uint_eq(res.err_index, 0);
	ck_assert_uint_eq(res.perf.descs, 0);
	/* A broken header: BAD_MAGIC at the header. */
	j.cmd.ptr[0] ^= 1;
	bt_submit(&j, 0, &res);
	ck_assert_uint_eq(res.err, F8NPU_ERR_BAD_MAGIC);
	ck_assert_uint_eq(res.err_index, 0xffffffffu);
	bt_close(&j);
}
END_TEST

static void bt_open_fails(const char *spec, int status, const char *says)
{
	struct f8_be *be = (struct f8_be *)&be;
	struct f8_err e = { { 0 } };

	ck_assert_int_eq(f8_be_open(spec, &be, &e), status);
	ck_assert_ptr_null(be);
	ck_assert_msg(strstr(e.msg, says), "%s: '%s' does not say '%s'", spec, e.msg, says);
}

START_TEST(test_bad_specs)
{
	bt_open_fails("ref:0x4", F8_ERR_FORMAT, "expected RxC");
	bt_open_fails("ref:4", F8_ERR_FORMAT, "expected RxC");
	bt_open_fails("ref:4x4x", F8_ERR_FORMAT, "expected RxC");
	bt_open_fails("ref:4097x4", F8_ERR_FORMAT, "expected RxC");
	bt_open_fails("ref:4x4,bw=0", F8_ERR_FORMAT, "bad option 'bw=0'");
	bt_open_fails("ref:4x4,vcd=x.vcd", F8_ERR_FORMAT, "bad option");
	bt_open_fails("nope", F8_ERR_FORMAT, "unknown");
	bt_open_fails("", F8_ERR_FORMAT, "unknown");
	bt_open_fails("refx", F8_ERR_FORMAT, "unknown");
	bt_open_fails("rtl:3x3", F8_ERR_IO, "make rtl-libs RTL_CONFIGS=r3c3");
	bt_open_fails("rtl:3x3", F8_ERR_IO, "r3c3/libf8npu-rtl.so");
	bt_open_fails("kmod", F8_ERR_IO, "no f8npu device");
	bt_open_fails("kmod:/dev/dri/renderD128", F8_ERR_IO, "no f8npu device");
	bt_open_fails("kmod:/etc/passwd", F8_ERR_FORMAT, "render node");
	bt_open_fails("ref:4x4,lat=1,bw=1,bw=1,bw=1,bw=1,bw=1,bw=1,bw=1,bw=1,bw=1,bw=1,bw=1,bw=1",
		      F8_ERR_FORMAT, "longer than");
	ck_assert_int_eq(f8_be_open(NULL, NULL, NULL), F8_ERR_MISUSE);
}
END_TEST

START_TEST(test_list)
{
	const struct f8_be_ops *const *ops;
	size_t n, i;
	bool ref = false, rtl = false, kmod = false;

	ops = f8_be_list(&n);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(ops[i]->what);
		ref |= !strcmp(ops[i]->name, "ref");
		rtl |= !strcmp(ops[i]->name, "rtl");
		kmod |= !strcmp(ops[i]->name, "kmod");
	}
	ck_assert(ref && rtl && kmod);
}
END_TEST

/* A buffer of another backend, or a freed one, is refused before the device sees it. */
START_TEST(test_misuse)
{
	struct f8npu_desc d = bt_conv();
	struct f8npu_job_result res;
	struct f8_be_job job;
	struct f8_be *other;
	struct f8_be_buf foreign;
	struct f8_err e = { { 0 } };
	struct bt_job j;

	bt_open(&j, "ref", &d);
	ck_assert_int_eq(f8_be_open("ref", &other, &e), F8_OK);
	ck_assert_int_eq(f8_be_alloc(other, bt_size[BT_DST], &foreign, &e), F8_OK);
	memset(&job, 0, sizeof(job));
	job.cmd = &j.cmd;
	job.cmd_size = j.cmd_size;
	job.region[BT_SRC] = &j.reg[BT_SRC];
	job.region[BT_DST] = &foreign;
	ck_assert_int_eq(f8_be_submit(j.be, &job, &res, &e), F8_ERR_MISUSE);
	ck_assert_ptr_nonnull(strstr(e.msg, "region 3"));
	job.region[BT_DST] = NULL;
	job.cmd_size = (uint32_t)j.cmd.size + 1;
	ck_assert_int_eq(f8_be_submit(j.be, &job, &res, &e), F8_ERR_MISUSE);
	job.cmd = NULL;
	ck_assert_int_eq(f8_be_submit(j.be, &job, &res, &e), F8_ERR_MISUSE);
	f8_be_free(other, &foreign);
	f8_be_close(other);
	bt_close(&j);
}
END_TEST

/* rtl:4x4 and rtl:16x16 open side by side in this process; each equals ref. */
START_TEST(test_rtl_two_configs)
{
	static const char *const specs[] = { "rtl:4x4", "rtl:16x16" };
	static const char *const refs[] = { "ref:4x4", "ref:16x16" };
	struct f8npu_desc d = bt_conv();
	struct f8npu_job_result ref_res[2], res[2];
	struct bt_job ref[2], rtl[2];
	uint8_t *want;
	int i;

	/* The model of the same array: the byte counters depend on the channel groups. */
	for (i = 0; i < 2; i++) {
		bt_open(&ref[i], refs[i], &d);
		bt_submit(&ref[i], 0, &ref_res[i]);
		ck_assert(ref_res[i].done);
		bt_open(&rtl[i], specs[i], &d);
	}
	want = bt_expected(&ref[0]);
	ck_assert_uint_eq(rtl[0].be->caps.rows, 4);
	ck_assert_uint_eq(rtl[0].be->caps.cols, 4);
	ck_assert_uint_eq(rtl[1].be->caps.rows, 16);
	ck_assert_uint_eq(rtl[1].be->caps.cols, 16);
	/* Interleaved: two Verilator runtimes live at once. */
	for (i = 0; i < 2; i++)
		bt_submit(&rtl[i], 0, &res[i]);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(res[i].done, "%s: err %u at %u, timed out %d", specs[i], res[i].err,
			      res[i].err_index, res[i].timed_out);
		f8_ck_assert_bytes_eq(rtl[i].reg[BT_DST].ptr, want, bt_size[BT_DST], specs[i]);
		/* MACs and bytes are architectural (isa.md §7): equal on every implementation. */
		f8_ck_assert_bytes_eq(ref[i].reg[BT_DST].ptr, want, bt_size[BT_DST], refs[i]);
		ck_assert_uint_eq(res[i].perf.macs, ref_res[i].perf.macs);
		ck_assert_uint_eq(res[i].perf.rd_bytes, ref_res[i].perf.rd_bytes);
		ck_assert_uint_eq(res[i].perf.wr_bytes, ref_res[i].perf.wr_bytes);
		ck_assert_uint_eq(res[i].perf.descs, ref_res[i].perf.descs);
		ck_assert_uint_gt(res[i].perf.cycles, 0);
	}
	/* A device error on the RTL is the model's error. */
	rtl[0].cmd.ptr[0] ^= 1;
	bt_submit(&rtl[0], 0, &res[0]);
	ck_assert_uint_eq(res[0].err, F8NPU_ERR_BAD_MAGIC);
	ck_assert_uint_eq(res[0].err_index, 0xffffffffu);
	for (i = 0; i < 2; i++) {
		bt_close(&rtl[i]);
		bt_close(&ref[i]);
	}
}
END_TEST

Suite *f8_backend_suite(void)
{
	Suite *s = suite_create("backend");
	TCase *tc = tcase_create("core"), *te = tcase_create("errors");

	tcase_add_checked_fixture(tc, f8t_setup, f8t_teardown);
	tcase_add_test(tc, test_ref_caps);
	tcase_add_test(tc, test_ref_alloc);
	tcase_add_test(tc, test_ref_conv);
	tcase_add_test(tc, test_ref_budget);
	tcase_add_test(tc, test_list);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(te, f8t_setup, f8t_teardown);
	tcase_add_test(te, test_ref_device_error);
	tcase_add_test(te, test_bad_specs);
	tcase_add_test(te, test_misuse);
	suite_add_tcase(s, te);
	/* The Verilated libraries are built by make rtl-libs; make backend-rtl points here. */
	if (getenv("F8_RTL_DIR")) {
		TCase *tr = tcase_create("rtl");

		tcase_add_checked_fixture(tr, f8t_setup, f8t_teardown);
		tcase_set_timeout(tr, 120);
		tcase_add_test(tr, test_rtl_two_configs);
		suite_add_tcase(s, tr);
	}
	return s;
}
