// Module hooks for the built CLI: an import of virtkit's own source (src/**/*.ts, as example PD modules
// write it) resolves to the build's module of that source, so the PD gets the instances the CLI uses
// (one ProgramError class, one board) instead of a second copy transpiled from src.
import { existsSync } from "node:fs";

let source;
let built;

export function initialize(data) {
  ({ source, built } = data);
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (!resolved.url.startsWith(source) || !resolved.url.endsWith(".ts")) return resolved;
  const url = `${built}${resolved.url.slice(source.length, -".ts".length)}.js`;
  return existsSync(new URL(url)) ? { url, format: "module", shortCircuit: true } : resolved;
}
