// SPDX-License-Identifier: GPL-2.0
/*
 * dataport: memory shared between a guest process and a native protection domain (virtkit's
 * cross-VM connectors, after CAmkES's cross-VM dataports).
 *
 * The memory is a Microkit memory region that the system maps into the VM at a fixed guest-physical
 * address, which the device tree names (compatible "virtkit,crossvm-dataport", reg, virtkit,id).
 * Nothing is allocated at run time: DATAPORT_IOCTL_ALLOCATE only checks that the size the guest asks
 * for is the size the VMM declared. mmap() maps the region into the process as normal cached memory.
 * /dev nodes: major "dataport" in /proc/devices, minor = dataport id.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>
#include "crossvm_node.h"

struct dataport {
	struct crossvm_node node;
	phys_addr_t paddr;
	u64 size;
};

static struct dataport *dataports[CROSSVM_MAX_ID + 1];
static DEFINE_MUTEX(dataports_lock);
static int major;

static int dataport_open(struct inode *inode, struct file *file)
{
	unsigned int minor = iminor(inode);
	struct dataport *dp = NULL;

	mutex_lock(&dataports_lock);
	if (minor <= CROSSVM_MAX_ID)
		dp = dataports[minor];
	mutex_unlock(&dataports_lock);
	if (!dp) {
		pr_warn("dataport: minor %u: the device tree declares no dataport with id %u\n", minor,
			minor);
		return -ENODEV;
	}
	file->private_data = dp;
	return 0;
}

static long dataport_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct dataport *dp = file->private_data;
	u64 value;

	switch (cmd) {
	case DATAPORT_IOCTL_ALLOCATE:
		if (copy_from_user(&value, (void __user *)arg, sizeof(value)))
			return -EFAULT;
		if (value != dp->size) {
			pr_err("dataport: dataport %u ('%s') is %llu bytes, as the VMM declares it; %llu bytes were asked for\n",
			       dp->node.id, dp->node.name, dp->size, value);
			return -EINVAL;
		}
		return 0;
	case DATAPORT_IOCTL_GET_SIZE:
		return copy_to_user((void __user *)arg, &dp->size, sizeof(dp->size)) ? -EFAULT : 0;
	case DATAPORT_IOCTL_GET_PADDR:
		value = dp->paddr;
		return copy_to_user((void __user *)arg, &value, sizeof(value)) ? -EFAULT : 0;
	}
	return -ENOTTY;
}

static int dataport_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dataport *dp = file->private_data;
	unsigned long length = vma->vm_end - vma->vm_start;
	u64 offset = (u64)vma->vm_pgoff << PAGE_SHIFT;

	pr_info("dataport received mmap for minor %u\n", dp->node.id);
	if (!(vma->vm_flags & VM_SHARED)) {
		pr_err("dataport: dataport %u ('%s') must be mapped MAP_SHARED: a private copy would not be shared with the native side\n",
		       dp->node.id, dp->node.name);
		return -EINVAL;
	}
	if (offset >= dp->size || length > dp->size - offset) {
		pr_err("dataport: mmap of %lu bytes at offset %llu does not fit dataport %u ('%s') of %llu bytes\n",
		       length, offset, dp->node.id, dp->node.name, dp->size);
		return -EINVAL;
	}
	/* vm_page_prot is the process's normal cached memory: strings, memset and unaligned access work. */
	return remap_pfn_range(vma, vma->vm_start, PHYS_PFN(dp->paddr) + vma->vm_pgoff, length,
			       vma->vm_page_prot);
}

static const struct file_operations dataport_fops = {
	.owner = THIS_MODULE,
	.open = dataport_open,
	.unlocked_ioctl = dataport_ioctl,
	.mmap = dataport_mmap,
};

static int dataport_probe(struct platform_device *pdev)
{
	struct dataport *dp;
	int err;

	dp = devm_kzalloc(&pdev->dev, sizeof(*dp), GFP_KERNEL);
	if (!dp)
		return -ENOMEM;
	err = crossvm_read_node(pdev, "dataport", &dp->node);
	if (err)
		return err;
	dp->paddr = dp->node.reg->start;
	dp->size = resource_size(dp->node.reg);
	if (!PAGE_ALIGNED(dp->paddr) || !PAGE_ALIGNED(dp->size)) {
		dev_err(&pdev->dev, "dataport %u: %pR is not page aligned\n", dp->node.id, dp->node.reg);
		return -EINVAL;
	}
	mutex_lock(&dataports_lock);
	if (dataports[dp->node.id]) {
		mutex_unlock(&dataports_lock);
		dev_err(&pdev->dev, "two dataports have id %u\n", dp->node.id);
		return -EBUSY;
	}
	dataports[dp->node.id] = dp;
	mutex_unlock(&dataports_lock);
	platform_set_drvdata(pdev, dp);
	dev_info(&pdev->dev, "dataport %u ('%s'): %llu bytes at %pa\n", dp->node.id, dp->node.name,
		 dp->size, &dp->paddr);
	return 0;
}

static int dataport_remove(struct platform_device *pdev)
{
	struct dataport *dp = platform_get_drvdata(pdev);

	mutex_lock(&dataports_lock);
	dataports[dp->node.id] = NULL;
	mutex_unlock(&dataports_lock);
	return 0;
}

static const struct of_device_id dataport_of_match[] = {
	{ .compatible = CROSSVM_DATAPORT_COMPATIBLE },
	{},
};
MODULE_DEVICE_TABLE(of, dataport_of_match);

static struct platform_driver dataport_driver = {
	.probe = dataport_probe,
	.remove = dataport_remove,
	.driver = { .name = "dataport", .of_match_table = dataport_of_match },
};

static int __init dataport_init(void)
{
	int err;

	major = register_chrdev(0, "dataport", &dataport_fops);
	if (major < 0)
		return major;
	err = platform_driver_register(&dataport_driver);
	if (err)
		unregister_chrdev(major, "dataport");
	return err;
}

static void __exit dataport_exit(void)
{
	platform_driver_unregister(&dataport_driver);
	unregister_chrdev(major, "dataport");
}

module_init(dataport_init);
module_exit(dataport_exit);
MODULE_DESCRIPTION("virtkit cross-VM dataports: memory shared with a native protection domain");
MODULE_LICENSE("GPL");
