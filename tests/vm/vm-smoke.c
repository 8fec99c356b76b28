// SPDX-License-Identifier: MIT
/*
 * The VM harness's own check (make vm-smoke): inside the booted VM, the modules the harness
 * says it loaded are live in the kernel, /dev is the kernel's devtmpfs, and /proc and /sys are
 * mounted. Each module name given on the command line must be in /proc/modules with state
 * "Live". Exit 0 when all hold; otherwise one line per failure and exit 1.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int fails;

static void fail(const char *what, const char *why)
{
	printf("vm-smoke: FAIL %s: %s\n", what, why);
	fails++;
}

/* The /proc/modules line of @name says "Live". */
static void check_module(const char *name)
{
	char line[512], mod[128], state[32];
	FILE *f = fopen("/proc/modules", "r");

	if (!f) {
		fail(name, "cannot open /proc/modules (is /proc mounted?)");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		/* name size refcount deps state address */
		if (sscanf(line, "%127s %*s %*s %*s %31s", mod, state) == 2 && !strcmp(mod, name)) {
			fclose(f);
			if (strcmp(state, "Live"))
				fail(name, "in /proc/modules but not Live");
			else
				printf("vm-smoke: module %s is live\n", name);
			return;
		}
	}
	fclose(f);
	fail(name, "not in /proc/modules");
}

int main(int argc, char **argv)
{
	struct stat st;
	int i;

	if (stat("/dev/null", &st) || !S_ISCHR(st.st_mode))
		fail("/dev/null", "not a character device (devtmpfs not mounted)");
	if (stat("/sys/class", &st) || !S_ISDIR(st.st_mode))
		fail("/sys", "not mounted");
	for (i = 1; i < argc; i++)
		check_module(argv[i]);
	if (argc < 2)
		fail("arguments", "no module name given");
	printf("vm-smoke: %s\n", fails ? "FAILED" : "ok");
	return fails ? 1 : 0;
}
