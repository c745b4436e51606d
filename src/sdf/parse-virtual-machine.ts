// `<virtual_machine>` elements: vCPUs, maps and scheduling of a VM.

import type { VirtualMachineDecl } from "./declarations.ts";
import type { Vcpu } from "./model.ts";
import type { Platform } from "./platform.ts";
import type { XmlElement } from "./xml.ts";
import { checkAttributes, requiredAttribute } from "./attributes.ts";
import { errorAt, locatedError, valueError } from "./errors.ts";
import { requiredId } from "./ids.ts";
import { parseMap } from "./parse-map.ts";
import { vmMapMaxVaddr } from "./platform.ts";
import { parseBudgetPeriod, parseCpu, parsePriority } from "./scheduling.ts";

/** Parses a `<virtual_machine>`; vCPUs without `cpu` run on the VMM's core. */
export function parseVirtualMachine(
  element: XmlElement,
  platform: Platform,
  vmmCpu: number,
): VirtualMachineDecl {
  if (element.attributes.has("id")) {
    throw valueError(
      element,
      "invalid attribute 'id'",
      'Older Microkit versions (and the tutorial text) used <virtual_machine id="0">; ' +
        'give the virtual machine <vcpu id="0"/> children instead.',
    );
  }
  checkAttributes(element, ["name", "budget", "period", "priority"]);
  const name = requiredAttribute(element, "name");
  const { budget, period } = parseBudgetPeriod(element);
  // The Microkit tool does not range-check a VM's priority (a value above 255 wraps); we do.
  const priority = parsePriority(element);

  const vcpus: Vcpu[] = [];
  const vm: VirtualMachineDecl = {
    name,
    priority,
    budget,
    period,
    vcpus,
    maps: [],
    location: element.location,
  };
  for (const child of element.children) {
    if (child.tag === "vcpu") {
      checkAttributes(child, ["id", "setvar_id", "cpu"]);
      const id = requiredId(child);
      if (vcpus.some((vcpu) => vcpu.id === id)) {
        throw errorAt(`Error: duplicate vcpu id ${id} in virtual machine '${name}'`, child.location);
      }
      const vcpu: Vcpu = { id, cpu: parseCpu(child, platform.cores, vmmCpu), location: child.location };
      const setvarId = child.attributes.get("setvar_id");
      if (setvarId !== undefined) vcpu.setvarId = setvarId;
      vcpus.push(vcpu);
    } else if (child.tag === "map") {
      vm.maps.push(parseMap(child, vmMapMaxVaddr(platform)));
    } else {
      throw locatedError(`Error: invalid XML element '${child.tag}'`, child.location);
    }
  }
  if (vcpus.length === 0) {
    throw errorAt(`Error: missing 'vcpu' element on virtual_machine: '${name}'`, element.location);
  }
  return vm;
}
