// SPDX-License-Identifier: MIT
/*
 * The ref backend: sim/'s bit-exact functional model in this process, the oracle.
 * "ref[:RxC[,bw=B][,lat=L][,without=OPS]]": the array reported in CAP_ARRAY and, with the DRAM
 * bandwidth and latency, the cost model's configuration (default 16x16, 16, 64). A job's
 * budget is the cost model's: a step that would pass it is not started.
 */
#include <stdlib.h>

#include "f8-be-impl.h"

static int f8_be_ref_open(const char *config, void **priv, struct f8_err *e)
{
	struct f8npu_model_config mc;
	struct f8_be_cfg cfg;
	struct f8_be_dev *d;
	struct f8npu_mem port;
	int rc;

	f8npu_model_default_config(&mc);
	cfg.rows = mc.rows;
	cfg.cols = mc.cols;
	cfg.bw = mc.dram_bytes_per_cycle;
	cfg.lat = mc.dram_latency;
	rc = f8_be_parse_config("ref", config, false, &cfg, e);
	if (rc)
		return rc;
	mc.rows = cfg.rows;
	mc.cols = cfg.cols;
	mc.dram_bytes_per_cycle = cfg.bw;
	mc.dram_latency = cfg.lat;
	d = calloc(1, sizeof(*d));
	if (!d)
		return f8_fail(e, F8_ERR_NOMEM, "ref: out of memory");
	f8npu_hostmem_init(&d->hm);
	port = f8npu_hostmem_port(&d->hm);
	d->dev = f8npu_model_create(&mc, &port);
	if (!d->dev) {
		free(d);
		return f8_fail(e, F8_ERR_NOMEM, "ref: cannot create the functional model");
	}
	d->predict = true;
	d->cost = mc;
	d->ops_off = cfg.ops_off;
	*priv = d;
	return F8_OK;
}

static void f8_be_ref_close(void *priv)
{
	f8_be_dev_fini(priv);
	free(priv);
}

static void f8_be_ref_caps(void *priv, struct f8_be_caps *caps)
{
	const struct f8_be_dev *d = priv;

	f8_be_dev_caps(d->dev, caps);
	caps->ops &= ~d->ops_off;
}

static int f8_be_ref_alloc(void *priv, uint64_t size, struct f8_be_buf *buf, struct f8_err *e)
{
	return f8_be_dev_alloc(priv, size, buf, e);
}

static void f8_be_ref_free(void *priv, struct f8_be_buf *buf)
{
	f8_be_dev_free(priv, buf);
}

static int f8_be_ref_submit(void *priv, const struct f8_be_job *job, struct f8npu_job_result *res,
			    struct f8_err *e)
{
	return f8_be_dev_submit(priv, job, res, e);
}

const struct f8_be_ops f8_be_ref_ops = {
	.name = "ref",
	.what = "functional model of sim/ in this process (bit-exact oracle, cost-model timing)",
	.open = f8_be_ref_open,
	.close = f8_be_ref_close,
	.caps = f8_be_ref_caps,
	.alloc = f8_be_ref_alloc,
	.free = f8_be_ref_free,
	.submit = f8_be_ref_submit,
};
