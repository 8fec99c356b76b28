# The C language and warning flags of every C program of the build, defined once: included by
# the top Makefile and by the fragments that also run on their own (mk/rtl.mk, mk/bench.mk).
F8_CSTD := -std=c11 -D_POSIX_C_SOURCE=200809L
F8_WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
