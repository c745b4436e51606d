// The values the Microkit tool patches into a PD's setvar symbols.

import { statSync } from "node:fs";
import type { ProtectionDomain } from "../sdf/model.ts";

export function pdSetvars(pd: ProtectionDomain): Record<string, number> {
  const values: Record<string, number> = {};
  for (const map of pd.maps) {
    if (map.setvarVaddr) values[map.setvarVaddr] = map.vaddr;
    if (map.setvarSize) values[map.setvarSize] = map.region.size;
    if (map.setvarPrefillSize) {
      values[map.setvarPrefillSize] = map.region.prefillResolved
        ? statSync(map.region.prefillResolved).size
        : 0;
    }
  }
  for (const irq of pd.irqs) if (irq.setvarId) values[irq.setvarId] = irq.id;
  for (const end of pd.channels) if (end.setvarId) values[end.setvarId] = end.id;
  for (const child of pd.children) if (child.setvarId) values[child.setvarId] = child.id!;
  for (const vcpu of pd.virtualMachine?.vcpus ?? []) if (vcpu.setvarId) values[vcpu.setvarId] = vcpu.id;
  for (const setvar of pd.setvars) values[setvar.symbol] = setvar.value;
  return values;
}
