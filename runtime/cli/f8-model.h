/* SPDX-License-Identifier: MIT */
/* Model lookup shared by `f8 model` and `f8 train`: a zoo name or an architecture file. */
#ifndef F8_MODEL_CLI_H
#define F8_MODEL_CLI_H

#include "f8-net.h"

/*
 * The architecture text of @model (malloc'd, NUL-terminated): an existing file is read
 * (at most 1 MiB), anything else is looked up in the zoo. NULL with a message on stderr
 * prefixed by @who ("f8 train").
 */
char *f8_model_arch(const char *who, const char *model);
/* Parse @model into a network; NULL with a message on stderr. */
struct f8_net *f8_model_load(const char *who, const char *model);
/* The zoo as "  name  description" lines. */
void f8_model_list(FILE *f);

#endif
