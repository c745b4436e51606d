/* SPDX-License-Identifier: BSD-2-Clause */
/* Cross-VM consumed events for guest processes (CAmkES's camkes-connector-apps API). */
#ifndef VIRTKIT_CONSUMES_EVENT_H
#define VIRTKIT_CONSUMES_EVENT_H

/*
 * Waits until the event open on `fd` has arrived and takes it: returns at once if it arrived while
 * nobody waited. Several arrivals since the last wait count as one, as with a seL4 notification.
 * 0, or -1 on error (errno set).
 */
int consumes_event_wait(int fd);
/* Takes the event if it has arrived, without waiting: 1 if it had, 0 if not, -1 on error. */
int consumes_event_poll(int fd);

#endif
