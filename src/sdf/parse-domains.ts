// `<domains>`: seL4's domain scheduler configuration.

import type { Domain, DomainSchedule, DomainScheduleEntry } from "./model.ts";
import type { Platform } from "./platform.ts";
import type { XmlElement } from "./xml.ts";
import { checkAttributes, optionalU64, requiredAttribute, safeNumber } from "./attributes.ts";
import { SdfError, errorAt, formatLocation, locatedError, valueError } from "./errors.ts";
import { parseU64 } from "./numbers.ts";

/** Parses `<domains>`: the domains, their ids (assigned lowest-free when omitted) and the schedule. */
export function parseDomains(element: XmlElement, platform: Platform): DomainSchedule {
  checkAttributes(element, []);
  if (platform.cores !== 1) {
    throw errorAt(
      "Error: The domain scheduler is not supported in multicore builds of seL4",
      element.location,
    );
  }
  const declared: { name: string; id?: number; location: XmlElement["location"] }[] = [];
  let scheduleElement: XmlElement | undefined;
  for (const child of element.children) {
    if (child.tag === "domain") {
      const domain = parseDomain(child, platform);
      const sameName = declared.find((other) => other.name === domain.name);
      if (sameName) {
        throw valueError(
          child,
          `Each <domain>'s name element must be unique found existing domain '${domain.name}' with id '${sameName.id ?? "None"}'`,
        );
      }
      const sameId = domain.id === undefined ? undefined : declared.find((other) => other.id === domain.id);
      if (sameId) {
        throw valueError(
          child,
          `Each <domain>'s id element must be unique found existing domain '${sameId.name}' with id '${domain.id}'`,
        );
      }
      declared.push(domain);
    } else if (child.tag === "domain_schedule") {
      if (scheduleElement) throw valueError(child, "The <domain_schedule> element can only appear once");
      scheduleElement = child;
    } else {
      throw locatedError(`Error: invalid XML element as child of <domains> '${child.tag}'`, child.location);
    }
  }
  if (!scheduleElement) throw valueError(element, "The <domain_schedule> element must appear once");

  const usedIds = new Set(declared.flatMap((domain) => (domain.id === undefined ? [] : [domain.id])));
  const domains: Domain[] = declared.map((domain) => {
    if (domain.id !== undefined) return { name: domain.name, id: domain.id, location: domain.location };
    let id = 0;
    while (usedIds.has(id)) id++;
    if (id >= platform.numDomains)
      throw valueError(element, `Number of domains exceeds ${platform.numDomains}`);
    usedIds.add(id);
    return { name: domain.name, id, location: domain.location };
  });
  return parseSchedule(scheduleElement, domains, platform);
}

function parseDomain(element: XmlElement, platform: Platform) {
  checkAttributes(element, ["name", "id"]);
  const name = requiredAttribute(element, "name");
  const id = optionalU64(element, "id");
  if (id !== undefined && id >= BigInt(platform.numDomains)) {
    throw valueError(
      element,
      `domain id ${id} should be less than the configured KernelNumDomains value of ${platform.numDomains}`,
    );
  }
  return id === undefined
    ? { name, location: element.location }
    : { name, id: Number(id), location: element.location };
}

function parseSchedule(element: XmlElement, domains: Domain[], platform: Platform): DomainSchedule {
  checkAttributes(element, ["index_shift", "start_index"]);
  const startIndex = safeNumber(element, "start_index", optionalU64(element, "start_index") ?? 0n);
  const indexShiftValue = optionalU64(element, "index_shift");
  const entries: DomainScheduleEntry[] = [];
  let endMarker = false;
  for (const child of element.children) {
    if (child.tag === "schedule_entry") {
      entries.push(parseEntry(child, domains));
    } else if (child.tag === "schedule_end_marker") {
      checkAttributes(child, []);
      endMarker = true;
    } else {
      throw locatedError(
        `Error: invalid XML element as child of <domain_schedule> '${child.tag}'`,
        child.location,
      );
    }
  }
  // The end marker occupies a slot of the kernel's schedule like an entry.
  const length = entries.length + (endMarker ? 1 : 0);
  if (length >= platform.numDomainSchedules) {
    throw new SdfError(
      `More than configured KernelNumDomainSchedules ${platform.numDomainSchedules} number of <schedule_entry> elements found @ ${formatLocation(element.location)}`,
      element.location,
    );
  }
  if (startIndex >= length) {
    throw valueError(
      element,
      `schedule_start_index '${startIndex}' is greater than the length of the schedule '${length}'`,
    );
  }
  const schedule: DomainSchedule = { domains, startIndex, entries, endMarker, location: element.location };
  if (indexShiftValue !== undefined) {
    if (indexShiftValue + BigInt(length) >= BigInt(platform.numDomainSchedules)) {
      throw valueError(
        element,
        `schedule_index_shift '${indexShiftValue}' on top of the schedule length '${length}' would exceed than the configured KernelNumDomainSchedules ${platform.numDomainSchedules}`,
      );
    }
    schedule.indexShift = Number(indexShiftValue);
  }
  return schedule;
}

function parseEntry(element: XmlElement, domains: Domain[]): DomainScheduleEntry {
  checkAttributes(element, ["domain", "duration"]);
  const domain = requiredAttribute(element, "domain");
  const duration = requiredAttribute(element, "duration");
  if (!domains.some((declared) => declared.name === domain)) {
    throw valueError(element, `domain '${domain}' does not exist,`);
  }
  const space = duration.indexOf(" ");
  if (space < 0) {
    throw valueError(element, `The duration '${duration}' must contain a value and a unit, e.g. '1000 us'`);
  }
  const value = parseU64(duration.slice(0, space), element);
  if (value === 0n) throw valueError(element, `The duration '${duration}' must be non-zero`);
  const unit = duration.slice(space + 1);
  if (unit !== "us" && unit !== "ticks") {
    throw valueError(element, `The duration '${duration}' must be in either 'ticks' or 'us'`);
  }
  return { domain, duration: safeNumber(element, "duration", value), unit, location: element.location };
}
