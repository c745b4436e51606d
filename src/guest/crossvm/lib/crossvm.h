/* SPDX-License-Identifier: BSD-2-Clause */
/* What the init tools share with the library: which kind of device a cross-VM node is. */
#ifndef VIRTKIT_CROSSVM_H
#define VIRTKIT_CROSSVM_H

#include <sys/types.h>

enum crossvm_kind {
	CROSSVM_DATAPORT,
	CROSSVM_EMITS_EVENT,
	CROSSVM_CONSUMES_EVENT,
};

/* The character-device major /proc/devices gives `name`, or -1 when no driver registered it. */
int crossvm_major(const char *name);
/* The index N of /dev/uioN whose UIO device is connector `id` of `kind`, or -1 if none is. */
int crossvm_uio_index(enum crossvm_kind kind, unsigned int id);
/* Map 0 of /dev/uio<index>: its physical address and size from sysfs; 0 on success. */
int crossvm_uio_map(unsigned int index, unsigned long long *addr, unsigned long long *size);

#endif
