// SPDX-License-Identifier: GPL-2.0
/*
 * emits_event: events a guest process sends to a native protection domain (virtkit's cross-VM
 * connectors, after CAmkES's cross-VM emitted events).
 *
 * Each event has a doorbell page (compatible "virtkit,crossvm-emits-event", reg, virtkit,id) that
 * the VM does not map: the module's store to it faults to the VMM, which notifies the native PD and
 * resumes the guest after the store. EMITS_EVENT_IOCTL_EMIT rings the doorbell once.
 * /dev nodes: major "emits_event" in /proc/devices, minor = event id.
 */
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include "crossvm_node.h"

struct emitted_event {
	struct crossvm_node node;
	void __iomem *doorbell;
};

static struct emitted_event *events[CROSSVM_MAX_ID + 1];
static DEFINE_MUTEX(events_lock);
static int major;

static int emits_event_open(struct inode *inode, struct file *file)
{
	unsigned int minor = iminor(inode);
	struct emitted_event *event = NULL;

	mutex_lock(&events_lock);
	if (minor <= CROSSVM_MAX_ID)
		event = events[minor];
	mutex_unlock(&events_lock);
	if (!event) {
		pr_warn("emits_event: minor %u: the device tree declares no emitted event with id %u\n",
			minor, minor);
		return -ENODEV;
	}
	file->private_data = event;
	return 0;
}

static long emits_event_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct emitted_event *event = file->private_data;

	if (cmd != EMITS_EVENT_IOCTL_EMIT)
		return -ENOTTY;
	writel(event->node.id, event->doorbell);
	return 0;
}

static const struct file_operations emits_event_fops = {
	.owner = THIS_MODULE,
	.open = emits_event_open,
	.unlocked_ioctl = emits_event_ioctl,
};

static int emits_event_probe(struct platform_device *pdev)
{
	struct emitted_event *event;
	int err;

	event = devm_kzalloc(&pdev->dev, sizeof(*event), GFP_KERNEL);
	if (!event)
		return -ENOMEM;
	err = crossvm_read_node(pdev, "emitted event", &event->node);
	if (err)
		return err;
	event->doorbell = devm_ioremap_resource(&pdev->dev, event->node.reg);
	if (IS_ERR(event->doorbell))
		return PTR_ERR(event->doorbell);
	mutex_lock(&events_lock);
	if (events[event->node.id]) {
		mutex_unlock(&events_lock);
		dev_err(&pdev->dev, "two emitted events have id %u\n", event->node.id);
		return -EBUSY;
	}
	events[event->node.id] = event;
	mutex_unlock(&events_lock);
	platform_set_drvdata(pdev, event);
	dev_info(&pdev->dev, "emitted event %u ('%s'): doorbell at %pR\n", event->node.id,
		 event->node.name, event->node.reg);
	return 0;
}

static int emits_event_remove(struct platform_device *pdev)
{
	struct emitted_event *event = platform_get_drvdata(pdev);

	mutex_lock(&events_lock);
	events[event->node.id] = NULL;
	mutex_unlock(&events_lock);
	return 0;
}

static const struct of_device_id emits_event_of_match[] = {
	{ .compatible = CROSSVM_EMITS_EVENT_COMPATIBLE },
	{},
};
MODULE_DEVICE_TABLE(of, emits_event_of_match);

static struct platform_driver emits_event_driver = {
	.probe = emits_event_probe,
	.remove = emits_event_remove,
	.driver = { .name = "emits_event", .of_match_table = emits_event_of_match },
};

static int __init emits_event_init(void)
{
	int err;

	major = register_chrdev(0, "emits_event", &emits_event_fops);
	if (major < 0)
		return major;
	err = platform_driver_register(&emits_event_driver);
	if (err)
		unregister_chrdev(major, "emits_event");
	return err;
}

static void __exit emits_event_exit(void)
{
	platform_driver_unregister(&emits_event_driver);
	unregister_chrdev(major, "emits_event");
}

module_init(emits_event_init);
module_exit(emits_event_exit);
MODULE_DESCRIPTION("virtkit cross-VM emitted events: doorbells to a native protection domain");
MODULE_LICENSE("GPL");
