// SPDX-License-Identifier: BSD-2-Clause
/*
 * The init tools of virtkit's cross-VM connectors, one program under three names (as CAmkES's
 * camkes-connector-apps has them):
 *
 *   dataport_init NAME SIZE [NAME SIZE]...   dataport n is the nth pair; checks its size
 *   consumes_event_init NAME...              consumed event n is the nth name
 *   emits_event_init NAME...                 emitted event n is the nth name
 *
 * Each creates the device node NAME for connector n: a node of virtkit's module (the module's major,
 * minor n), or of the UIO device the VMM declared for it (/dev/uioN named crossvm-<kind>-<n>).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "crossvm.h"
#include "crossvm_abi.h"
#include "dataport.h"

struct tool {
	const char *name;
	enum crossvm_kind kind;
	const char *module;
	const char *what;
	const char *creating;
};

static const struct tool tools[] = {
	{ "dataport_init", CROSSVM_DATAPORT, "dataport", "dataport", "dataport" },
	{ "consumes_event_init", CROSSVM_CONSUMES_EVENT, "consumes_event", "consumed event",
	  "consuming event" },
	{ "emits_event_init", CROSSVM_EMITS_EVENT, "emits_event", "emitted event", "emitting event" },
};

static const struct tool *tool;

static int fail(const char *format, const char *node, unsigned int id, const char *detail)
{
	fprintf(stderr, "%s: ", tool->name);
	fprintf(stderr, format, node, id, detail);
	fputc('\n', stderr);
	return 1;
}

/* Makes `node` the device of connector `id`; 0 on success. */
static int create_node(const char *node, unsigned int id, int *uio)
{
	int major, index = crossvm_uio_index(tool->kind, id);
	dev_t device;

	*uio = index >= 0;
	if (index >= 0) {
		major = crossvm_major("uio");
		device = makedev((unsigned int)major, (unsigned int)index);
	} else {
		major = crossvm_major(tool->module);
		if (major < 0) {
			char detail[160];

			snprintf(detail, sizeof(detail), "neither is the %s module loaded (insmod %s.ko) nor is there a UIO device %s%u",
				 tool->module, tool->module,
				 tool->kind == CROSSVM_DATAPORT	     ? CROSSVM_UIO_DATAPORT :
				 tool->kind == CROSSVM_EMITS_EVENT ? CROSSVM_UIO_EMITS_EVENT :
								       CROSSVM_UIO_CONSUMES_EVENT,
				 id);
			return fail("cannot create %s for id %u: %s", node, id, detail);
		}
		device = makedev((unsigned int)major, id);
	}
	if (unlink(node) != 0 && errno != ENOENT)
		return fail("cannot replace %s (id %u): %s", node, id, strerror(errno));
	if (mknod(node, S_IFCHR | 0666, device) != 0)
		return fail("cannot create %s (id %u): %s", node, id, strerror(errno));
	return 0;
}

/* Opens the new node, which fails when the device tree has no connector with this id. */
static int open_node(const char *node, unsigned int id)
{
	int fd = open(node, O_RDWR);

	if (fd < 0) {
		char detail[160];

		snprintf(detail, sizeof(detail), "%s (the VMM declares no %s with id %u)", strerror(errno),
			 tool->what, id);
		fail("cannot open %s (id %u): %s", node, id, detail);
		unlink(node);
	}
	return fd;
}

static int init_dataports(int argc, char **argv)
{
	int i, uio, fd, status = 0;

	if (argc < 3 || argc % 2 == 0) {
		fprintf(stderr, "usage: %s NAME SIZE [NAME SIZE]...  (dataport n is the nth pair)\n",
			tool->name);
		return 2;
	}
	for (i = 1; i + 1 < argc; i += 2) {
		unsigned int id = (unsigned int)(i + 1) / 2;
		const char *node = argv[i];
		char *end;
		unsigned long long size = strtoull(argv[i + 1], &end, 0);

		if (*argv[i + 1] == '\0' || *end != '\0' || size == 0) {
			status = fail("%s (id %u): the size must be a positive number of bytes, not '%s'", node,
				      id, argv[i + 1]);
			continue;
		}
		printf("Creating dataport node %s\n", node);
		if (create_node(node, id, &uio) != 0) {
			status = 1;
			continue;
		}
		printf("Allocating %llu bytes for %s\n", size, node);
		fflush(stdout);
		fd = open_node(node, id);
		if (fd < 0) {
			status = 1;
			continue;
		}
		if (uio) {
			ssize_t actual = dataport_get_size(fd);

			if (actual != (ssize_t)size) {
				char detail[120];

				snprintf(detail, sizeof(detail), "the VMM declares %zd bytes, not %llu", actual,
					 size);
				status = fail("%s (id %u): %s", node, id, detail);
			}
		} else {
			__u64 value = size;

			if (ioctl(fd, DATAPORT_IOCTL_ALLOCATE, &value) != 0) {
				char detail[160];
				__u64 actual = 0;

				ioctl(fd, DATAPORT_IOCTL_GET_SIZE, &actual);
				snprintf(detail, sizeof(detail), "the VMM declares %llu bytes, not %llu (%s)",
					 (unsigned long long)actual, size, strerror(errno));
				status = fail("%s (id %u): %s", node, id, detail);
			}
		}
		close(fd);
	}
	return status;
}

static int init_events(int argc, char **argv)
{
	int i, uio, fd, status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s NAME...  (event n is the nth name)\n", tool->name);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		unsigned int id = (unsigned int)i;

		printf("Creating %s node %s\n", tool->creating, argv[i]);
		fflush(stdout);
		if (create_node(argv[i], id, &uio) != 0) {
			status = 1;
			continue;
		}
		fd = open_node(argv[i], id);
		if (fd < 0)
			status = 1;
		else
			close(fd);
	}
	return status;
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	size_t i;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (strcmp(tools[i].name, name) == 0)
			tool = &tools[i];
	}
	if (!tool) {
		fprintf(stderr, "crossvm_init: run me as dataport_init, consumes_event_init or emits_event_init\n");
		return 2;
	}
	return tool->kind == CROSSVM_DATAPORT ? init_dataports(argc, argv) : init_events(argc, argv);
}
