// `<cspace>` elements: capabilities to other PDs' objects in a PD's CSpace.

import type { CapMap, CapMapType } from "./model.ts";
import type { XmlElement } from "./xml.ts";
import { checkAttributes, requiredAttribute, requiredU64 } from "./attributes.ts";
import { SdfError, formatLocation, valueError } from "./errors.ts";

/** Slot 0 holds the Microkit CNode; libmicrokit reserves MICROKIT_MAX_USER_CAPS (128) slots. */
const CAP_MAP_MAX_SLOT = 128;

const CAP_TYPES: Record<string, CapMapType> = { cap_tcb: "tcb", cap_sc: "sc", cap_vspace: "vspace" };

/** Parses a `<cspace>`: capabilities to other PDs' TCB, scheduling context or VSpace. */
export function parseCspace(element: XmlElement): CapMap[] {
  checkAttributes(element, []);
  return element.children.map((child) => {
    const type = CAP_TYPES[child.tag];
    if (type === undefined) {
      const where = formatLocation(child.location);
      const message = child.tag.startsWith("cap_")
        ? `Cap type: '${child.tag.slice(4)}' is not supported at '${where}'`
        : `Element '${child.tag}' is not supported in a <cspace> element at '${where}'`;
      throw new SdfError(message, child.location);
    }
    checkAttributes(child, ["slot", "pd"]);
    const pd = requiredAttribute(child, "pd");
    const slot = requiredU64(child, "slot");
    if (slot === 0n) throw valueError(child, "The destination slot 0 has been reserved for Microkit CNode");
    if (slot >= BigInt(CAP_MAP_MAX_SLOT)) {
      throw valueError(child, `There are only ${CAP_MAP_MAX_SLOT} destination cspace slots available.`);
    }
    return { type, pd, slot: Number(slot), location: child.location };
  });
}
