/* SPDX-License-Identifier: MIT */
/*
 * Inside the job-level backends (f8-backend.h): what ref and rtl share. Both are a
 * struct f8npu_dev in this process over sim/'s host memory, driven through sim/'s
 * register-programming layer, exactly as the kernel will drive the real device.
 */
#ifndef F8_BE_IMPL_H
#define F8_BE_IMPL_H

#include "f8-backend.h"
#include "f8npu_hostmem.h"
#include "f8npu_model.h"

/* The budget of a job whose max_cycles is 0 (f8 exec's default). */
#define F8_BE_DEFAULT_CYCLES (1ull << 40)

extern const struct f8_be_ops f8_be_ref_ops;
extern const struct f8_be_ops f8_be_rtl_ops;
extern const struct f8_be_ops f8_be_kmod_ops;

/*
 * A device in this process and the host memory its buffers live in.
 * @predict: budget by the cost model before each step (ref: a step that would pass the
 *           budget is not started); otherwise the device's own cycles are capped (rtl).
 * @cost: the cost model's configuration (with @predict).
 */
struct f8_be_dev {
	struct f8npu_hostmem hm;
	struct f8npu_dev *dev;
	bool predict;
	struct f8npu_model_config cost;
	uint32_t ops_off; /* opcodes the caps hide (without=): a smaller device, emulated */
};

/* What a configuration string "RxC[,bw=B][,lat=L][,without=OPS][,vcd=PATH]" says (f8_be_parse_config). */
struct f8_be_cfg {
	uint32_t rows, cols;
	uint32_t bw, lat;
	uint32_t ops_off; /* without=OP[+OP...]: bits of the opcodes to hide from the caps */
	const char *vcd; /* points into the parsed string's copy @buf, or NULL */
	char buf[256];
};

/*
 * Parse @config (NULL or "": the defaults already in @cfg) of backend @name; @vcd_ok: the
 * backend accepts vcd=. F8_OK, or F8_ERR_FORMAT with a reason naming @name.
 */
int f8_be_parse_config(const char *name, const char *config, bool vcd_ok, struct f8_be_cfg *cfg,
		       struct f8_err *e);

/* The ID and capability registers of @dev. */
void f8_be_dev_caps(struct f8npu_dev *dev, struct f8_be_caps *caps);
int f8_be_dev_alloc(struct f8_be_dev *d, uint64_t size, struct f8_be_buf *buf, struct f8_err *e);
void f8_be_dev_free(struct f8_be_dev *d, struct f8_be_buf *buf);
int f8_be_dev_submit(struct f8_be_dev *d, const struct f8_be_job *job,
		     struct f8npu_job_result *res, struct f8_err *e);
/* Destroy the device and free every buffer. */
void f8_be_dev_fini(struct f8_be_dev *d);

#endif
