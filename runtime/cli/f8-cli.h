/* SPDX-License-Identifier: MIT */
/* The f8 command-line tool: subcommands and the helpers they share. */
#ifndef F8_CLI_H
#define F8_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Subcommands: argv[0] is the subcommand name; return the process exit status. */
int f8_cmd_exec(int argc, char **argv);
int f8_cmd_demo(int argc, char **argv);
int f8_cmd_bench(int argc, char **argv);
int f8_cmd_train(int argc, char **argv);
int f8_cmd_model(int argc, char **argv);
int f8_cmd_export(int argc, char **argv);
int f8_cmd_eval(int argc, char **argv);
int f8_cmd_compile(int argc, char **argv);
int f8_cmd_info(int argc, char **argv);
int f8_cmd_run(int argc, char **argv);
int f8_cmd_profile(int argc, char **argv);
int f8_cmd_cpubench(int argc, char **argv);
int f8_cmd_finetune(int argc, char **argv);
int f8_cmd_baseline(int argc, char **argv);
int f8_cmd_dtbo(int argc, char **argv);

/* Exit statuses shared by the subcommands (docs/runner.md). */
enum f8_exit {
	F8_EXIT_OK = 0,
	F8_EXIT_USAGE = 1,  /* bad usage or I/O problem */
	F8_EXIT_DEVICE = 2, /* the device stopped with an error */
	F8_EXIT_TIMEOUT = 3 /* the cycle budget ran out */
};

/*
 * Read a whole regular file of at most @max bytes into a malloc'd buffer (opened
 * non-blocking: a FIFO or a device is refused, never waited on). Returns NULL with a
 * message on stderr (naming @path) on any failure.
 */
uint8_t *f8_file_read(const char *path, uint64_t max, uint64_t *size);

/*
 * Write @len bytes to @path (f8_fs_write): a regular or absent file is replaced
 * atomically (temporary <path>.tmp.<pid>, fsync, rename; stale temporaries of dead
 * processes removed), a device or FIFO is written in place, a symbolic link or a
 * directory is refused. Returns 0, or -1 with a message on stderr.
 */
int f8_file_write_atomic(const char *path, const void *data, uint64_t len);

/* Integer evaluation (f8-inteval.c): int32 logits [ds->n][classes] of @m on @ds, on the
 * current thread pool, progress on stderr; 0 or -1 with a message (the dataset must fit the
 * model). F8_INT_REF runs the reference kernels of sim/ (the device's numbers), F8_INT_CPU
 * the fast CPU path (f8-cpu.h), whose logits are the same. f8_int_top1 counts the correct
 * top-1; f8_logits_write writes them little-endian (atomically). */
struct f8_qm;
struct f8_dataset;
enum f8_int_backend { F8_INT_REF, F8_INT_CPU };
int f8_int_eval(const char *tool, const struct f8_qm *m, const struct f8_dataset *ds,
		int32_t *logits, enum f8_int_backend backend);
/* 0 if @ds has the model's image shape and class count, else -1 with a message. */
int f8_ds_fits(const char *tool, const struct f8_qm *m, const struct f8_dataset *ds);
/* Images [first, first + n) of @ds (planes [c][h][w]) into @hwc ([n][h][w][c]). */
void f8_ds_to_hwc(const struct f8_dataset *ds, size_t first, size_t n, uint8_t *hwc);
int f8_int_top1(const struct f8_qm *m, const struct f8_dataset *ds, const int32_t *logits);
int f8_argmax32(const int32_t *v, int n);
int f8_logits_write(const char *path, const int32_t *logits, size_t count);
extern const char *const f8_fmnist_class_names[10];
/* What an export of @net takes from it (f8-export.c): its input normalisation, the
 * Fashion-MNIST class names for a 10-class head, @model as the model name (or "model" when
 * longer than the file's 23 characters). */
struct f8_export_cfg;
struct f8_net;
void f8_export_for(struct f8_export_cfg *cfg, const struct f8_net *net, const char *model);

/* A model file is at most header + 4096 nodes + 1000 names + 256 MiB of parameters. */
#define F8_QM_FILE_MAX ((uint64_t)300 << 20)
#include "f8-err.h"
#include "f8-qmodel.h"
/* An integer model file, read and validated (f8-qmfile.c): 0, or -1 with a message naming
 * @path and what is wrong. The model points into the file's buffer. */
struct f8_qm_file {
	uint8_t *file;
	struct f8_qm_node *nodes;
	char (*names)[F8_QM_NAME_MAX];
	struct f8_qm m;
};
int f8_qm_file_load(const char *tool, const char *path, struct f8_qm_file *qf);
void f8_qm_file_free(struct f8_qm_file *qf);

/*
 * Where an integer model runs (f8-place.c): --backend graph | cpu | ref[:RxC] | rtl:RxC |
 * kmod[:NODE] | auto, all with the same int32 logits. f8_place_open resolves the spec (a
 * device: opened, the model compiled for its capabilities with @batch images per job);
 * f8_place_eval runs the test set with progress (the device's counters summed into @st,
 * may be NULL); f8_place_report prints which layer runs where and why.
 * f8_place_instances gives an in-process simulator (ref, rtl) @n instances in all: each its
 * own backend (for rtl its own Verilated model, VerilatedContext and memory image) and its
 * own compiled copy of the model; f8_place_eval then runs one thread per instance, the images
 * split into chunks that the threads take in turn, the logits written in image order (so
 * identical to one instance). A real device (kmod) keeps one. 0, or -1 with a message.
 */
#include "f8-backend.h"
#include "f8-compile.h"
enum f8_place_kind { F8_PLACE_GRAPH, F8_PLACE_CPU, F8_PLACE_DEVICE };
struct f8_place {
	enum f8_place_kind kind;
	char name[80];
	char why[640];
	struct f8_be *be;
	struct f8_cc_part *part;   /* the model split between the device and the host */
	uint32_t on_device, on_host; /* nodes of each */
	uint32_t batch;
	/* Instances 1 .. ninst-1 of the device (f8_place_instances); instance 0 is be, part. */
	uint32_t ninst;
	struct f8_be **xbe;
	struct f8_cc_part **xpart;
};
int f8_place_open(const char *tool, const char *spec, const struct f8_qm *m, uint32_t batch,
		  struct f8_place *pl);
int f8_place_eval(const char *tool, struct f8_place *pl, const struct f8_qm *m,
		  const struct f8_dataset *ds, int32_t *logits, struct f8_cc_stats *st);
int f8_place_instances(const char *tool, struct f8_place *pl, const struct f8_qm *m, uint32_t n);
void f8_place_report(FILE *f, const struct f8_place *pl, const struct f8_qm *m);
void f8_place_close(struct f8_place *pl);

/*
 * One job on a job-level backend (f8-job.c, over f8-backend.h): regions and a command
 * stream in the backend's buffers. Messages go to stderr.
 */
#include "f8-backend.h"
#include "f8npu_prog.h"
#include "f8npu_regs.h"

struct f8_job {
	struct f8_be *be;
	struct f8_be_buf region[F8NPU_REGIONS]; /* .ptr NULL: region disabled */
	struct f8_be_buf cmd;
	uint32_t cmd_size;
};

/* Open backend @spec (NULL: "ref", the functional model); 0 or -1 with a message. */
int f8_job_init(struct f8_job *job, const char *spec);
/* Zero-filled region @r of @size bytes; NULL with a message. */
uint8_t *f8_job_region(struct f8_job *job, unsigned int r, uint64_t size);
/* Zero-filled command buffer of @size bytes; NULL with a message. */
uint8_t *f8_job_stream(struct f8_job *job, uint32_t size);
/*
 * Run the stream (TAIL = header desc_count) with the regions given; this job's counters in
 * @res->perf. The budget is the backend's (f8-backend.h): on ref a step that would pass
 * @max_cycles is not started, so any stream is bounded by it in model cycles and in the time
 * it takes to simulate them. 0, or -1 with a message (misuse only: a device error is @res).
 */
int f8_job_run(struct f8_job *job, uint64_t max_cycles, struct f8npu_job_result *res);
/* The two result lines of docs/runner.md on @f, prefixed by @who. */
void f8_job_report(FILE *f, const char *who, const struct f8npu_job_result *res);
void f8_job_free(struct f8_job *job);

#endif /* F8_CLI_H */
