/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cross-VM dataports for guest processes: the API of CAmkES's camkes-connector-apps library, over
 * virtkit's dataport module (/dev nodes made by dataport_init) or a libvmm-style UIO device.
 */
#ifndef VIRTKIT_DATAPORT_H
#define VIRTKIT_DATAPORT_H

#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* The guest-physical address of the dataport open on `fd`; 0 on error (errno set). */
long long unsigned int dataport_get_paddr(int fd);
/* The dataport's size in bytes; -1 on error (errno set). */
ssize_t dataport_get_size(int fd);
/* Maps the whole dataport shared and read-write; MAP_FAILED on error (errno set). */
void *dataport_mmap(int fd);

#endif
