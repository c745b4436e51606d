/* SPDX-License-Identifier: BSD-2-Clause */
/* Cross-VM emitted events for guest processes (CAmkES's camkes-connector-apps API). */
#ifndef VIRTKIT_EMITS_EVENT_H
#define VIRTKIT_EMITS_EVENT_H

/* Sends the event open on `fd` to the native side; 0, or -1 on error (errno set). */
int emits_event_emit(int fd);

#endif
