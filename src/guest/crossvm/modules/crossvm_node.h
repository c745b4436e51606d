/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the three cross-VM modules read from their device-tree nodes: the connector's id
 * (virtkit,id, 1..CROSSVM_MAX_ID), its name (virtkit,name, for messages) and its one reg range.
 */
#ifndef VIRTKIT_CROSSVM_NODE_H
#define VIRTKIT_CROSSVM_NODE_H

#include <linux/of.h>
#include <linux/platform_device.h>
#include "crossvm_abi.h"

struct crossvm_node {
	u32 id;
	const char *name;
	struct resource *reg;
};

static inline int crossvm_read_node(struct platform_device *pdev, const char *kind,
				    struct crossvm_node *node)
{
	struct device *dev = &pdev->dev;

	if (of_property_read_u32(dev->of_node, "virtkit,id", &node->id)) {
		dev_err(dev, "%s node %pOF has no virtkit,id property\n", kind, dev->of_node);
		return -EINVAL;
	}
	if (node->id < 1 || node->id > CROSSVM_MAX_ID) {
		dev_err(dev, "%s node %pOF: id %u is outside 1..%d\n", kind, dev->of_node, node->id,
			CROSSVM_MAX_ID);
		return -EINVAL;
	}
	if (of_property_read_string(dev->of_node, "virtkit,name", &node->name))
		node->name = "";
	node->reg = platform_get_resource(pdev, IORESOURCE_MEM, 0);
	if (!node->reg) {
		dev_err(dev, "%s %u node %pOF has no reg range\n", kind, node->id, dev->of_node);
		return -EINVAL;
	}
	return 0;
}

#endif
