// SPDX-License-Identifier: MIT
/* Userspace allocation of the functional model (the core allocates nothing). */
#include <stdlib.h>

#include "f8npu_model.h"

struct f8npu_dev *f8npu_model_create(const struct f8npu_model_config *cfg, const struct f8npu_mem *mem)
{
	void *storage = calloc(1, f8npu_model_storage_size());
	struct f8npu_dev *dev;

	if (!storage)
		return NULL;
	dev = f8npu_model_init(storage, cfg, mem);
	if (!dev) {
		free(storage);
		return NULL;
	}
	f8npu_model_set_release(dev, free);
	return dev;
}
