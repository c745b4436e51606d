/*
 * Stops its child (id 1), notifies it while it is stopped, then resumes it: the child handles the
 * notification only after the resume.
 */
#include <microkit.h>

#define CHILD 1
#define CHILD_CHANNEL 0

void init(void)
{
    microkit_pd_stop(CHILD);
    microkit_dbg_puts("parent: child stopped, notifying it\n");
    microkit_notify(CHILD_CHANNEL);
    microkit_dbg_puts("parent: resuming it\n");
    microkit_pd_resume(CHILD);
    microkit_dbg_puts("parent: done\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}
