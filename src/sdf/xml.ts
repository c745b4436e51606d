// The XML reader: elements with attributes in document order and their line:column.

import { SaxesParser } from "saxes";
import type { SourceLocation } from "./model.ts";
import { SdfError, errorAt, formatLocation } from "./errors.ts";

/** An XML element with its attributes in document order and the position of its `<`. */
export interface XmlElement {
  tag: string;
  attributes: ReadonlyMap<string, string>;
  children: XmlElement[];
  location: SourceLocation;
}

/**
 * A system description is a shallow tree; real ones nest child PDs a few levels deep. The
 * limit keeps every later recursive walk far from the stack limit on hostile input.
 */
const MAX_NESTING_DEPTH = 100;

/**
 * Parses the document into an element tree and requires a `<system>` root. Any non-whitespace
 * text is rejected here, before elements are interpreted, as Microkit does.
 */
export function parseXml(text: string, file: string): XmlElement {
  const parser = new SaxesParser({ position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let lastClosed: XmlElement | undefined;
  let textStart = { line: 1, column: 1 };
  let tagStart: SourceLocation = { file, line: 1, column: 1 };

  const here = () => ({ line: parser.line, column: parser.column + 1 });
  const fail = (reason: string): never => {
    const location = { file, line: parser.line, column: Math.max(parser.column, 1) };
    throw new SdfError(`Could not parse '${file}': ${reason} @ ${formatLocation(location)}`, location);
  };

  parser.on("error", (err) => fail(err.message.replace(/^\d+:\d+: /, "").replace(/\.$/, "")));
  parser.on("opentagstart", (tag) => {
    // saxes has consumed `<`, the name and one more character by now; names never span lines.
    tagStart = { file, line: parser.line, column: parser.column - tag.name.length - 1 };
    if (stack.length >= MAX_NESTING_DEPTH) {
      throw errorAt(
        `Error: elements are nested more than ${MAX_NESTING_DEPTH} levels deep; ` +
          "a system description never needs that many",
        tagStart,
      );
    }
  });
  parser.on("opentag", (tag) => {
    const element: XmlElement = {
      tag: tag.name,
      attributes: new Map(Object.entries(tag.attributes)),
      children: [],
      location: tagStart,
    };
    const parent = stack.at(-1);
    if (parent) parent.children.push(element);
    else root = element;
    lastClosed = undefined;
    if (!tag.isSelfClosing) stack.push(element);
    else lastClosed = element;
    textStart = here();
  });
  parser.on("closetag", (tag) => {
    if (!tag.isSelfClosing) lastClosed = stack.pop();
    textStart = here();
  });
  for (const event of ["comment", "processinginstruction", "doctype"] as const) {
    parser.on(event, () => {
      textStart = here();
    });
  }
  // Character data, plain or in a CDATA section, is text all the same.
  const onText = (data: string) => {
    const parent = stack.at(-1);
    const offset = data.search(/\S/);
    if (parent && offset >= 0) {
      const location = { file, ...positionWithin(data, offset, textStart) };
      if (lastClosed)
        throw errorAt(`Error: unexpected text found after element '${lastClosed.tag}'`, location);
      throw errorAt(`Error: unexpected text found in element '${parent.tag}'`, location);
    }
    textStart = here();
  };
  parser.on("text", onText);
  parser.on("cdata", onText);

  // A byte-order mark is not part of the document; dropping it keeps columns right.
  parser.write(text.startsWith("\uFEFF") ? text.slice(1) : text).close();
  if (!root) return fail("document must contain a root element");
  if (root.tag !== "system") {
    throw errorAt(
      `Error: the root element must be 'system', found '${root.tag}' in '${file}'`,
      root.location,
    );
  }
  return root;
}

/** Line and column of `data[offset]`, given where `data` starts. */
function positionWithin(data: string, offset: number, start: { line: number; column: number }) {
  const before = data.slice(0, offset);
  const lastNewline = before.lastIndexOf("\n");
  if (lastNewline < 0) return { line: start.line, column: start.column + offset };
  return { line: start.line + before.split("\n").length - 1, column: offset - lastNewline };
}
