// `<channel>` elements: two ends, their ids, notify and pp rights.

import type { ChannelDecl } from "./declarations.ts";
import type { ChannelEndDecl } from "./model.ts";
import type { XmlElement } from "./xml.ts";
import { booleanAttribute, checkAttributes, requiredAttribute } from "./attributes.ts";
import { locatedError, valueError } from "./errors.ts";
import { requiredId } from "./ids.ts";

/**
 * Parses a `<channel>`. Channels are parsed after every PD, so `pdNames` holds all of them,
 * children included.
 */
export function parseChannel(element: XmlElement, pdNames: ReadonlySet<string>): ChannelDecl {
  checkAttributes(element, []);
  const ends = element.children.map((child) => parseEnd(child, pdNames));
  if (ends.length !== 2) throw valueError(element, "exactly two end elements must be specified");
  const [a, b] = ends as [ChannelEndDecl, ChannelEndDecl];
  if (a.pp && b.pp) throw valueError(element, "cannot ppc bidirectionally");
  return { ends: [a, b], location: element.location };
}

function parseEnd(element: XmlElement, pdNames: ReadonlySet<string>): ChannelEndDecl {
  if (element.tag !== "end")
    throw locatedError(`Error: invalid XML element '${element.tag}'`, element.location);
  checkAttributes(element, ["pd", "id", "pp", "notify", "setvar_id"]);
  const pd = requiredAttribute(element, "pd");
  const id = requiredId(element);
  const notify = booleanAttribute(element, "notify", true);
  const pp = booleanAttribute(element, "pp", false);
  if (!pdNames.has(pd)) throw valueError(element, `invalid PD name '${pd}'`);
  const end: ChannelEndDecl = { pd, id, pp, notify, location: element.location };
  const setvarId = element.attributes.get("setvar_id");
  if (setvarId !== undefined) end.setvarId = setvarId;
  return end;
}
