// SPDX-License-Identifier: GPL-2.0
/*
 * consumes_event: events a native protection domain sends to a guest process (virtkit's cross-VM
 * connectors, after CAmkES's cross-VM consumed events).
 *
 * Each event has a page of read-only registers the VMM emulates (compatible
 * "virtkit,crossvm-consumes-event", reg, virtkit,id) and an SPI. For each event the VMM counts it in
 * the page's COUNT register, then injects the SPI; the handler takes the difference from the count it
 * saw last and latches it. poll() reports POLLIN while an event is latched and read() takes it, so
 * an event that arrived while nobody waited makes the next wait return at once, as a seL4
 * notification does; events that arrive before anyone takes them are counted, not queued.
 * /dev nodes: major "consumes_event" in /proc/devices, minor = event id.
 */
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include "crossvm_node.h"

struct consumed_event {
	struct crossvm_node node;
	void __iomem *page;
	wait_queue_head_t wait;
	spinlock_t lock;
	/* The COUNT register when last read, and the events latched since the last read(). */
	u32 seen;
	u32 latched;
};

static struct consumed_event *events[CROSSVM_MAX_ID + 1];
static DEFINE_MUTEX(events_lock);
static int major;

static irqreturn_t consumes_event_irq(int irq, void *data)
{
	struct consumed_event *event = data;
	u32 count = readl(event->page + CONSUMES_EVENT_REG_COUNT);
	unsigned long flags;
	bool arrived;

	spin_lock_irqsave(&event->lock, flags);
	arrived = count != event->seen;
	event->latched += count - event->seen;
	event->seen = count;
	spin_unlock_irqrestore(&event->lock, flags);
	if (arrived)
		wake_up_interruptible(&event->wait);
	/* The line is this event's alone; an interrupt that finds the count unchanged was coalesced. */
	return IRQ_HANDLED;
}

static int consumes_event_open(struct inode *inode, struct file *file)
{
	unsigned int minor = iminor(inode);
	struct consumed_event *event = NULL;

	mutex_lock(&events_lock);
	if (minor <= CROSSVM_MAX_ID)
		event = events[minor];
	mutex_unlock(&events_lock);
	if (!event) {
		pr_warn("consumes_event: minor %u: the device tree declares no consumed event with id %u\n",
			minor, minor);
		return -ENODEV;
	}
	file->private_data = event;
	return 0;
}

static u32 take_latched(struct consumed_event *event)
{
	unsigned long flags;
	u32 taken;

	spin_lock_irqsave(&event->lock, flags);
	taken = event->latched;
	event->latched = 0;
	spin_unlock_irqrestore(&event->lock, flags);
	return taken;
}

static ssize_t consumes_event_read(struct file *file, char __user *buf, size_t len, loff_t *ppos)
{
	struct consumed_event *event = file->private_data;
	u32 taken;

	if (len < sizeof(taken))
		return -EINVAL;
	for (;;) {
		taken = take_latched(event);
		if (taken)
			break;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(event->wait, READ_ONCE(event->latched) != 0))
			return -ERESTARTSYS;
	}
	return copy_to_user(buf, &taken, sizeof(taken)) ? -EFAULT : sizeof(taken);
}

static __poll_t consumes_event_poll(struct file *file, poll_table *wait)
{
	struct consumed_event *event = file->private_data;

	poll_wait(file, &event->wait, wait);
	return READ_ONCE(event->latched) ? EPOLLIN | EPOLLRDNORM : 0;
}

static const struct file_operations consumes_event_fops = {
	.owner = THIS_MODULE,
	.open = consumes_event_open,
	.read = consumes_event_read,
	.poll = consumes_event_poll,
	.llseek = noop_llseek,
};

static int consumes_event_probe(struct platform_device *pdev)
{
	struct consumed_event *event;
	u32 page_id;
	int irq, err;

	event = devm_kzalloc(&pdev->dev, sizeof(*event), GFP_KERNEL);
	if (!event)
		return -ENOMEM;
	err = crossvm_read_node(pdev, "consumed event", &event->node);
	if (err)
		return err;
	init_waitqueue_head(&event->wait);
	spin_lock_init(&event->lock);
	event->page = devm_ioremap_resource(&pdev->dev, event->node.reg);
	if (IS_ERR(event->page))
		return PTR_ERR(event->page);
	page_id = readl(event->page + CONSUMES_EVENT_REG_ID);
	if (page_id != event->node.id) {
		dev_err(&pdev->dev, "consumed event %u: the VMM's page at %pR says id %u\n",
			event->node.id, event->node.reg, page_id);
		return -EINVAL;
	}
	irq = platform_get_irq(pdev, 0);
	if (irq < 0)
		return irq;
	mutex_lock(&events_lock);
	if (events[event->node.id]) {
		mutex_unlock(&events_lock);
		dev_err(&pdev->dev, "two consumed events have id %u\n", event->node.id);
		return -EBUSY;
	}
	events[event->node.id] = event;
	mutex_unlock(&events_lock);
	platform_set_drvdata(pdev, event);
	/* Events the native side sent before the module was loaded are latched by the first interrupt. */
	err = devm_request_irq(&pdev->dev, irq, consumes_event_irq, 0, dev_name(&pdev->dev), event);
	if (err) {
		mutex_lock(&events_lock);
		events[event->node.id] = NULL;
		mutex_unlock(&events_lock);
		return err;
	}
	dev_info(&pdev->dev, "consumed event %u ('%s'): page at %pR, irq %d\n", event->node.id,
		 event->node.name, event->node.reg, irq);
	return 0;
}

static int consumes_event_remove(struct platform_device *pdev)
{
	struct consumed_event *event = platform_get_drvdata(pdev);

	mutex_lock(&events_lock);
	events[event->node.id] = NULL;
	mutex_unlock(&events_lock);
	return 0;
}

static const struct of_device_id consumes_event_of_match[] = {
	{ .compatible = CROSSVM_CONSUMES_EVENT_COMPATIBLE },
	{},
};
MODULE_DEVICE_TABLE(of, consumes_event_of_match);

static struct platform_driver consumes_event_driver = {
	.probe = consumes_event_probe,
	.remove = consumes_event_remove,
	.driver = { .name = "consumes_event", .of_match_table = consumes_event_of_match },
};

static int __init consumes_event_init(void)
{
	int err;

	major = register_chrdev(0, "consumes_event", &consumes_event_fops);
	if (major < 0)
		return major;
	err = platform_driver_register(&consumes_event_driver);
	if (err)
		unregister_chrdev(major, "consumes_event");
	return err;
}

static void __exit consumes_event_exit(void)
{
	platform_driver_unregister(&consumes_event_driver);
	unregister_chrdev(major, "consumes_event");
}

module_init(consumes_event_init);
module_exit(consumes_event_exit);
MODULE_DESCRIPTION("virtkit cross-VM consumed events: notifications from a native protection domain");
MODULE_LICENSE("GPL");
