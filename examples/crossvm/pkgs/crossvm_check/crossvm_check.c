// SPDX-License-Identifier: BSD-2-Clause
/*
 * Exercises the example's connectors (/dev/camkes_data, /dev/camkes_do_print,
 * /dev/camkes_done_printing) beyond what print_client does; the tests in tests/crossvm run it.
 *
 *   crossvm_check rounds N     N round trips, "round 1" ... "round N", each waited for
 *   crossvm_check latched      emit, let the reply arrive while nobody waits, then take it
 *   crossvm_check burst N      emit N times without waiting, then take the replies
 *   crossvm_check fill C       fill the whole dataport with the character C (no NUL), emit, wait
 *   crossvm_check words TEXT   copy TEXT with aligned 32-bit stores (safe on Device memory), emit, wait
 */
#include <assert.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "consumes_event.h"
#include "dataport.h"
#include "emits_event.h"

static char *data;
static ssize_t size;
static int do_print, done_printing;

static void round_trip(void)
{
	if (emits_event_emit(do_print) != 0 || consumes_event_wait(done_printing) != 0) {
		perror("crossvm_check");
		exit(1);
	}
}

static void wait_for_reply(void)
{
	/* Long enough for the native side to answer while this process is not waiting. */
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 200 * 1000 * 1000 };

	nanosleep(&pause, NULL);
}

int main(int argc, char **argv)
{
	int data_fd = open("/dev/camkes_data", O_RDWR);
	long i, n;

	do_print = open("/dev/camkes_do_print", O_RDWR);
	done_printing = open("/dev/camkes_done_printing", O_RDWR);
	if (data_fd < 0 || do_print < 0 || done_printing < 0) {
		perror("crossvm_check: open /dev/camkes_*");
		return 1;
	}
	data = dataport_mmap(data_fd);
	size = dataport_get_size(data_fd);
	assert(data != MAP_FAILED && size > 0);
	if (argc == 3 && strcmp(argv[1], "rounds") == 0) {
		n = strtol(argv[2], NULL, 0);
		for (i = 1; i <= n; i++) {
			snprintf(data, (size_t)size, "round %ld", i);
			round_trip();
		}
		printf("crossvm_check: %ld round trips\n", n);
	} else if (argc == 2 && strcmp(argv[1], "latched") == 0) {
		strcpy(data, "latched");
		emits_event_emit(do_print);
		wait_for_reply();
		int first = consumes_event_poll(done_printing);
		int second = consumes_event_poll(done_printing);
		printf("crossvm_check: latched %d, then %d\n", first, second);
		strcpy(data, "latched wait");
		emits_event_emit(do_print);
		wait_for_reply();
		consumes_event_wait(done_printing);
		printf("crossvm_check: a wait after the reply returned at once\n");
	} else if (argc == 3 && strcmp(argv[1], "burst") == 0) {
		n = strtol(argv[2], NULL, 0);
		strcpy(data, "burst");
		for (i = 0; i < n; i++)
			emits_event_emit(do_print);
		wait_for_reply();
		int first = consumes_event_poll(done_printing);
		int second = consumes_event_poll(done_printing);
		printf("crossvm_check: %ld emitted, replies taken %d, then %d\n", n, first, second);
	} else if (argc == 3 && strcmp(argv[1], "fill") == 0) {
		memset(data, argv[2][0], (size_t)size);
		round_trip();
		printf("crossvm_check: filled %zd bytes with '%c'\n", size, argv[2][0]);
	} else if (argc == 3 && strcmp(argv[1], "words") == 0) {
		volatile uint32_t *words = (volatile uint32_t *)data;
		size_t length = strlen(argv[2]) + 1, at;

		for (at = 0; at < length && at + 4 <= (size_t)size; at += 4) {
			uint32_t word = 0;

			memcpy(&word, argv[2] + at, length - at < 4 ? length - at : 4);
			words[at / 4] = word;
		}
		round_trip();
		printf("crossvm_check: sent '%s' in 32-bit words\n", argv[2]);
	} else {
		fprintf(stderr, "usage: crossvm_check rounds N | latched | burst N | fill C | words TEXT\n");
		return 2;
	}
	return 0;
}
