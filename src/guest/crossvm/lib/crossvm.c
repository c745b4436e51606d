// SPDX-License-Identifier: BSD-2-Clause
/*
 * The guest library of virtkit's cross-VM connectors: CAmkES's camkes-connector-apps API
 * (dataport_mmap, emits_event_emit, consumes_event_wait, ...) over either of two device models,
 * told apart by the major number of the node a file descriptor is open on:
 *
 *   - virtkit's modules (majors "dataport", "emits_event", "consumes_event", minor = connector id):
 *     ioctl to size and emit, poll and read to wait;
 *   - libvmm's UIO model (major "uio", /dev/uioN named crossvm-<kind>-<id> in sysfs): map 0 is the
 *     dataport or the doorbell page, a store to the doorbell emits, a 4-byte read waits for the
 *     interrupt after a write of 1 re-enables it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "consumes_event.h"
#include "crossvm.h"
#include "crossvm_abi.h"
#include "dataport.h"
#include "emits_event.h"

static const char *const module_names[] = { "dataport", "emits_event", "consumes_event" };
static const char *const uio_prefixes[] = { CROSSVM_UIO_DATAPORT, CROSSVM_UIO_EMITS_EVENT,
					    CROSSVM_UIO_CONSUMES_EVENT };

int crossvm_major(const char *name)
{
	char line[128], device[64];
	int major, found = -1, characters = 0;
	FILE *devices = fopen("/proc/devices", "r");

	if (!devices)
		return -1;
	while (fgets(line, sizeof(line), devices)) {
		if (strncmp(line, "Character devices:", 18) == 0) {
			characters = 1;
			continue;
		}
		if (strncmp(line, "Block devices:", 14) == 0)
			break;
		if (characters && sscanf(line, "%d %63s", &major, device) == 2 &&
		    strcmp(device, name) == 0) {
			found = major;
			break;
		}
	}
	fclose(devices);
	return found;
}

/* Majors once found stay found: the drivers register at module load, before the init tools run. */
static int cached_major(const char *name)
{
	static int majors[4] = { -1, -1, -1, -1 };
	static const char *const names[4] = { "dataport", "emits_event", "consumes_event", "uio" };
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(names[i], name) != 0)
			continue;
		if (majors[i] < 0)
			majors[i] = crossvm_major(name);
		return majors[i];
	}
	return crossvm_major(name);
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *file = fopen(path, "r");
	char *end;

	if (!file)
		return -1;
	if (!fgets(buf, (int)len, file)) {
		fclose(file);
		return -1;
	}
	fclose(file);
	end = strchr(buf, '\n');
	if (end)
		*end = '\0';
	return 0;
}

int crossvm_uio_index(enum crossvm_kind kind, unsigned int id)
{
	char want[64], path[300], name[64];
	struct dirent *entry;
	unsigned int index;
	int found = -1;
	DIR *dir = opendir("/sys/class/uio");

	if (!dir)
		return -1;
	snprintf(want, sizeof(want), "%s%u", uio_prefixes[kind], id);
	while ((entry = readdir(dir))) {
		if (sscanf(entry->d_name, "uio%u", &index) != 1)
			continue;
		snprintf(path, sizeof(path), "/sys/class/uio/%s/name", entry->d_name);
		if (read_line(path, name, sizeof(name)) == 0 && strcmp(name, want) == 0) {
			found = (int)index;
			break;
		}
	}
	closedir(dir);
	return found;
}

int crossvm_uio_map(unsigned int index, unsigned long long *addr, unsigned long long *size)
{
	char path[128], value[64];

	snprintf(path, sizeof(path), "/sys/class/uio/uio%u/maps/map0/addr", index);
	if (read_line(path, value, sizeof(value)) || sscanf(value, "%llx", addr) != 1)
		return -1;
	snprintf(path, sizeof(path), "/sys/class/uio/uio%u/maps/map0/size", index);
	if (read_line(path, value, sizeof(value)) || sscanf(value, "%llx", size) != 1)
		return -1;
	return 0;
}

/* 0 for a node of `kind`'s module, 1 for a UIO node (its index in *uio), -1 otherwise (errno set). */
static int identify(int fd, enum crossvm_kind kind, unsigned int *uio)
{
	struct stat st;
	int major;

	if (fstat(fd, &st) != 0)
		return -1;
	if (S_ISCHR(st.st_mode)) {
		major = (int)major(st.st_rdev);
		if (major == cached_major(module_names[kind]))
			return 0;
		if (major == cached_major("uio")) {
			*uio = minor(st.st_rdev);
			return 1;
		}
	}
	errno = ENOTTY;
	return -1;
}

long long unsigned int dataport_get_paddr(int fd)
{
	unsigned long long addr = 0, size;
	unsigned int uio;
	__u64 value;

	switch (identify(fd, CROSSVM_DATAPORT, &uio)) {
	case 0:
		return ioctl(fd, DATAPORT_IOCTL_GET_PADDR, &value) == 0 ? value : 0;
	case 1:
		return crossvm_uio_map(uio, &addr, &size) == 0 ? addr : 0;
	}
	return 0;
}

ssize_t dataport_get_size(int fd)
{
	unsigned long long addr, size;
	unsigned int uio;
	__u64 value;

	switch (identify(fd, CROSSVM_DATAPORT, &uio)) {
	case 0:
		return ioctl(fd, DATAPORT_IOCTL_GET_SIZE, &value) == 0 ? (ssize_t)value : -1;
	case 1:
		if (crossvm_uio_map(uio, &addr, &size) == 0)
			return (ssize_t)size;
		errno = ENODEV;
		return -1;
	}
	return -1;
}

void *dataport_mmap(int fd)
{
	ssize_t size = dataport_get_size(fd);

	if (size <= 0)
		return MAP_FAILED;
	/* Offset 0: the whole dataport (UIO: map 0). */
	return mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

/* The doorbell pages of UIO emitted events, mapped once per device. */
static struct {
	dev_t device;
	volatile uint32_t *doorbell;
} doorbells[16];

static volatile uint32_t *uio_doorbell(int fd, unsigned int uio)
{
	unsigned long long addr, size;
	struct stat st;
	void *page;
	size_t i;

	if (fstat(fd, &st) != 0)
		return NULL;
	for (i = 0; i < sizeof(doorbells) / sizeof(doorbells[0]); i++) {
		if (doorbells[i].doorbell && doorbells[i].device == st.st_rdev)
			return doorbells[i].doorbell;
	}
	if (crossvm_uio_map(uio, &addr, &size) != 0) {
		errno = ENODEV;
		return NULL;
	}
	page = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED)
		return NULL;
	for (i = 0; i < sizeof(doorbells) / sizeof(doorbells[0]); i++) {
		if (!doorbells[i].doorbell) {
			doorbells[i].device = st.st_rdev;
			doorbells[i].doorbell = page;
			break;
		}
	}
	return page;
}

int emits_event_emit(int fd)
{
	volatile uint32_t *doorbell;
	unsigned int uio;

	switch (identify(fd, CROSSVM_EMITS_EVENT, &uio)) {
	case 0:
		return ioctl(fd, EMITS_EVENT_IOCTL_EMIT) == 0 ? 0 : -1;
	case 1:
		doorbell = uio_doorbell(fd, uio);
		if (!doorbell)
			return -1;
		/* A single 32-bit store: the doorbell is Device memory, and the VMM emulates the store. */
		*doorbell = 1;
		return 0;
	}
	return -1;
}

/* Waits up to `timeout` ms (-1: forever) for the event, then takes it: 1 taken, 0 none, -1 error. */
static int take_event(int fd, int timeout)
{
	struct pollfd ready = { .fd = fd, .events = POLLIN };
	uint32_t count, enable = 1;
	unsigned int uio;
	int kind = identify(fd, CROSSVM_CONSUMES_EVENT, &uio), n;

	if (kind < 0)
		return -1;
	/* UIO: uio_pdrv_genirq masks the interrupt in its handler; writing 1 unmasks it. */
	if (kind == 1 && write(fd, &enable, sizeof(enable)) != sizeof(enable))
		return -1;
	do
		n = poll(&ready, 1, timeout);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n;
	if (read(fd, &count, sizeof(count)) != sizeof(count))
		return -1;
	return 1;
}

int consumes_event_wait(int fd)
{
	return take_event(fd, -1) == 1 ? 0 : -1;
}

int consumes_event_poll(int fd)
{
	return take_event(fd, 0);
}
