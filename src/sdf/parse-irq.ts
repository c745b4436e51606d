// `<irq>` elements (ARM): the interrupt number, its channel id and trigger.

import type { SetvarDecl } from "./declarations.ts";
import type { Irq, IrqTrigger } from "./model.ts";
import type { XmlElement } from "./xml.ts";
import { checkAttributes, requiredAttribute } from "./attributes.ts";
import { valueError } from "./errors.ts";
import { requiredId } from "./ids.ts";
import { parseDecimalId } from "./numbers.ts";
import { addSetvar, idSetvar } from "./setvars.ts";

/** Parses an ARM `<irq>`, adding its setvar_id to the PD's setvars. */
export function parseIrq(element: XmlElement, setvars: SetvarDecl[]): Irq {
  const id = requiredId(element);
  const setvarId = element.attributes.get("setvar_id");
  if (setvarId !== undefined) addSetvar(setvars, idSetvar(setvarId, id, element), element);

  if (!element.attributes.has("irq")) {
    if (element.attributes.has("pin")) {
      throw valueError(element, "x86 I/O APIC IRQ isn't supported on ARM and RISC-V");
    }
    if (element.attributes.has("pcidev")) {
      throw valueError(element, "x86 MSI IRQ isn't supported on ARM and RISC-V");
    }
    requiredAttribute(element, "irq");
  }
  checkAttributes(element, ["irq", "id", "setvar_id", "trigger"]);
  const irqNumber = parseDecimalId(requiredAttribute(element, "irq"), element);
  // The Microkit tool panics on a negative irq; the GIC has no INTID above 1019.
  if (irqNumber < 0n || irqNumber > 1019n) {
    throw valueError(element, "irq must be an interrupt number between 0 and 1019");
  }
  const trigger = element.attributes.get("trigger") ?? "level";
  if (trigger !== "level" && trigger !== "edge") {
    throw valueError(element, "trigger must be either 'level' or 'edge'");
  }
  const irq: Irq = { irq: Number(irqNumber), id, trigger: trigger as IrqTrigger, location: element.location };
  if (setvarId !== undefined) irq.setvarId = setvarId;
  return irq;
}
