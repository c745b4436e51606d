/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * virtkit's cross-VM connectors: the interface between the guest kernel modules (dataport,
 * emits_event, consumes_event) and the user library and init tools. Shared by both sides, so it
 * uses only types the kernel's UAPI and user space agree on.
 *
 * Device nodes: /dev/<name> is a character device of the module's major (as /proc/devices lists
 * "dataport", "emits_event" and "consumes_event"), minor n = connector id n (ids start at 1).
 */
#ifndef VIRTKIT_CROSSVM_ABI_H
#define VIRTKIT_CROSSVM_ABI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define CROSSVM_MAX_ID 255

/* dataport: size the dataport (must equal the size the VMM gives it), read its size and address. */
#define DATAPORT_IOCTL_ALLOCATE _IOW('v', 0x01, __u64)
#define DATAPORT_IOCTL_GET_SIZE _IOR('v', 0x02, __u64)
#define DATAPORT_IOCTL_GET_PADDR _IOR('v', 0x03, __u64)

/* emits_event: one event to the native side. */
#define EMITS_EVENT_IOCTL_EMIT _IO('v', 0x10)

/*
 * consumes_event: poll() reports POLLIN while an event is latched; read() of 4 bytes takes it and
 * returns how many events arrived since the last read (at least 1). A read with nothing latched
 * blocks (or fails with EAGAIN under O_NONBLOCK).
 */

/* The consumed-event page the VMM emulates (read-only registers, 32 bits each). */
#define CONSUMES_EVENT_REG_ID 0x0    /* the event's id */
#define CONSUMES_EVENT_REG_COUNT 0x4 /* events delivered so far (wraps at 2^32) */

/* The device-tree compatibles of the three kinds, and the UIO node name prefixes. */
#define CROSSVM_DATAPORT_COMPATIBLE "virtkit,crossvm-dataport"
#define CROSSVM_EMITS_EVENT_COMPATIBLE "virtkit,crossvm-emits-event"
#define CROSSVM_CONSUMES_EVENT_COMPATIBLE "virtkit,crossvm-consumes-event"
#define CROSSVM_UIO_DATAPORT "crossvm-dataport-"
#define CROSSVM_UIO_EMITS_EVENT "crossvm-emits-event-"
#define CROSSVM_UIO_CONSUMES_EVENT "crossvm-consumes-event-"

#endif
