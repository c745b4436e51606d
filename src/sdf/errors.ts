// Errors located at file:line:col, in the forms the Microkit tool prints.

import type { SourceLocation } from "./model.ts";

/**
 * A system description the tool cannot accept. `message` is one line that a person can act
 * on: Microkit's wording, always ending with (or containing) `file:line:col`.
 */
export class SdfError extends Error {
  readonly location: SourceLocation;
  /** Optional advice on what to change, printed after the error line. */
  readonly hint: string | undefined;

  constructor(message: string, location: SourceLocation, hint?: string) {
    super(message);
    this.name = "SdfError";
    this.location = location;
    this.hint = hint;
  }
}

export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

/** `<message> @ file:line:col`: the form Microkit uses for map and global errors. */
export function errorAt(message: string, location: SourceLocation): SdfError {
  return new SdfError(`${message} @ ${formatLocation(location)}`, location);
}

/** An element that carries a location and a tag name, as value errors need. */
export interface Located {
  tag: string;
  location: SourceLocation;
}

/** `Error: <message> on element '<tag>': file:line:col`: Microkit's value error. */
export function valueError(element: Located, message: string, hint?: string): SdfError {
  return new SdfError(
    `Error: ${message} on element '${element.tag}': ${formatLocation(element.location)}`,
    element.location,
    hint,
  );
}

/** `<message>: file:line:col`: the form Microkit uses for element-structure errors. */
export function locatedError(message: string, location: SourceLocation): SdfError {
  return new SdfError(`${message}: ${formatLocation(location)}`, location);
}
