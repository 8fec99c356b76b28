// SPDX-License-Identifier: MIT
/*
 * The rtl backend: the Verilated RTL of one array configuration in this process,
 * "rtl:RxC[,bw=B][,lat=L][,vcd=PATH]" (default 16x16; bw and lat: the harness's memory
 * model, sim/include/f8npu_rtl.h). Each configuration is its own shared object,
 * <dir>/rRcC/libf8npu-rtl.so (make rtl-libs), loaded at run time with RTLD_LOCAL and built
 * -Bsymbolic, so rtl:4x4 and rtl:16x16 live side by side in one process, each with its own
 * Verilator runtime. <dir> is $F8_RTL_DIR if set, else the build directory of this program
 * (build/rtl next to build/f8, or the one it is in).
 * Opening one configuration several times (f8 eval --threads: one instance per thread) loads
 * its library once (dlopen counts the references); each open creates its own Verilated model in
 * its own VerilatedContext over its own host memory, so the instances may run in different
 * threads at once (sim/f8npu_rtl.cpp, "Threads").
 */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "f8-be-impl.h"
#include "f8npu_rtl.h"

struct f8_be_rtl {
	struct f8_be_dev d;
	void *so;
};

/* The harness's entry points (f8npu_rtl.h), looked up in the configuration's library. */
struct f8_be_rtl_syms {
	void (*default_config)(struct f8npu_rtl_config *cfg);
	struct f8npu_dev *(*create)(const struct f8npu_rtl_config *cfg, const struct f8npu_mem *mem);
	uint32_t (*rows)(void);
	uint32_t (*cols)(void);
};

/*
 * Where the library of configuration @cfgname is: $F8_RTL_DIR/<cfg>/, else relative to
 * this executable: <exe dir>/rtl/<cfg>/ (build/f8), <exe dir>/../rtl/<cfg>/ (build/asan/f8),
 * <exe dir>/../<cfg>/ (programs in build/rtl/<cfg>/). The first that exists, else the
 * first candidate (for the message).
 */
static void f8_be_rtl_path(const char *cfgname, char *path, size_t size)
{
	static const char *const rel[] = { "/rtl/", "/../rtl/", "/../" };
	const char *env = getenv("F8_RTL_DIR");
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;
	size_t i;

	if (env && *env) {
		snprintf(path, size, "%s/%s/libf8npu-rtl.so", env, cfgname);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(path, size, "build/rtl/%s/libf8npu-rtl.so", cfgname);
		return;
	}
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(path, size, "%s%s%s/libf8npu-rtl.so", exe, rel[i], cfgname);
		if (access(path, F_OK) == 0)
			return;
	}
	snprintf(path, size, "%s%s%s/libf8npu-rtl.so", exe, rel[0], cfgname);
}

static int f8_be_rtl_syms(void *so, const char *path, struct f8_be_rtl_syms *s, struct f8_err *e)
{
	/* POSIX: a data pointer from dlsym converts to a function pointer through memcpy. */
	static const char *const names[] = { "f8npu_rtl_default_config", "f8npu_rtl_create",
					     "f8npu_rtl_rows", "f8npu_rtl_cols" };
	void *p[4];
	size_t i;

	for (i = 0; i < 4; i++) {
		p[i] = dlsym(so, names[i]);
		if (!p[i])
			return f8_fail(e, F8_ERR_IO, "rtl: %s has no %s: not an f8npu RTL library", path,
				       names[i]);
	}
	memcpy(&s->default_config, &p[0], sizeof(p[0]));
	memcpy(&s->create, &p[1], sizeof(p[1]));
	memcpy(&s->rows, &p[2], sizeof(p[2]));
	memcpy(&s->cols, &p[3], sizeof(p[3]));
	return F8_OK;
}

static int f8_be_rtl_open(const char *config, void **priv, struct f8_err *e)
{
	struct f8_be_cfg cfg = { .rows = 16, .cols = 16, .bw = 16, .lat = 64 };
	struct f8npu_rtl_config rc;
	struct f8_be_rtl_syms s = { 0 };
	struct f8npu_mem port;
	struct f8_be_rtl *r;
	char name[32], path[PATH_MAX + 64];
	void *so;
	int st;

	st = f8_be_parse_config("rtl", config, true, &cfg, e);
	if (st)
		return st;
	snprintf(name, sizeof(name), "r%uc%u", cfg.rows, cfg.cols);
	f8_be_rtl_path(name, path, sizeof(path));
	if (access(path, F_OK))
		return f8_fail(e, F8_ERR_IO,
			       "rtl:%ux%u: no Verilated RTL of that configuration: %s is missing (build it: "
			       "make rtl-libs RTL_CONFIGS=%s; or point F8_RTL_DIR at the directory holding %s/)",
			       cfg.rows, cfg.cols, path, name, name);
	so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!so)
		return f8_fail(e, F8_ERR_IO, "rtl:%ux%u: cannot load %s: %s", cfg.rows, cfg.cols, path,
			       dlerror());
	st = f8_be_rtl_syms(so, path, &s, e);
	if (!st && (s.rows() != cfg.rows || s.cols() != cfg.cols))
		st = f8_fail(e, F8_ERR_IO, "rtl:%ux%u: %s holds a %ux%u array", cfg.rows, cfg.cols, path,
			     s.rows(), s.cols());
	r = st ? NULL : calloc(1, sizeof(*r));
	if (!st && !r)
		st = f8_fail(e, F8_ERR_NOMEM, "rtl: out of memory");
	if (st) {
		dlclose(so);
		return st;
	}
	r->so = so;
	f8npu_hostmem_init(&r->d.hm);
	port = f8npu_hostmem_port(&r->d.hm);
	s.default_config(&rc);
	rc.dram_bytes_per_cycle = cfg.bw;
	rc.dram_latency = cfg.lat;
	rc.vcd_path = cfg.vcd;
	r->d.ops_off = cfg.ops_off;
	r->d.dev = s.create(&rc, &port);
	if (!r->d.dev) {
		free(r);
		dlclose(so);
		return f8_fail(e, F8_ERR_IO, "rtl:%ux%u: cannot create the Verilated core%s%s", cfg.rows,
			       cfg.cols, cfg.vcd ? " (VCD file not writable?) " : "",
			       cfg.vcd ? cfg.vcd : "");
	}
	*priv = r;
	return F8_OK;
}

static void f8_be_rtl_close(void *priv)
{
	struct f8_be_rtl *r = priv;

	f8_be_dev_fini(&r->d);
	dlclose(r->so);
	free(r);
}

static void f8_be_rtl_caps(void *priv, struct f8_be_caps *caps)
{
	const struct f8_be_rtl *r = priv;

	f8_be_dev_caps(r->d.dev, caps);
	caps->ops &= ~r->d.ops_off;
}

static int f8_be_rtl_alloc(void *priv, uint64_t size, struct f8_be_buf *buf, struct f8_err *e)
{
	return f8_be_dev_alloc(&((struct f8_be_rtl *)priv)->d, size, buf, e);
}

static void f8_be_rtl_free(void *priv, struct f8_be_buf *buf)
{
	f8_be_dev_free(&((struct f8_be_rtl *)priv)->d, buf);
}

static int f8_be_rtl_submit(void *priv, const struct f8_be_job *job, struct f8npu_job_result *res,
			    struct f8_err *e)
{
	return f8_be_dev_submit(&((struct f8_be_rtl *)priv)->d, job, res, e);
}

const struct f8_be_ops f8_be_rtl_ops = {
	.name = "rtl",
	.what = "Verilated RTL of one array configuration in this process (its rRcC/libf8npu-rtl.so)",
	.open = f8_be_rtl_open,
	.close = f8_be_rtl_close,
	.caps = f8_be_rtl_caps,
	.alloc = f8_be_rtl_alloc,
	.free = f8_be_rtl_free,
	.submit = f8_be_rtl_submit,
};
