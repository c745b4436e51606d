// Module hooks for `virtkit run` from the build, for TypeScript PD modules and what they import:
// - a module under src/ or examples/ resolves to the build's JavaScript of that source, so nothing is
//   transpiled and a PD gets the very instances the CLI uses (one ProgramError class, one board)
//   instead of a second copy of src/;
// - any other TypeScript module (a user's PD beside their .system file) is transpiled by esbuild as an
//   ES module, and `./x.js` finds `./x.ts` when only that exists (TypeScript's NodeNext spelling).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** [{ source, built }]: file URLs of a source folder and of its build, each ending in a slash. */
let roots = [];
let esbuild;

export function initialize(data) {
  ({ roots } = data);
}

export async function resolve(specifier, context, next) {
  let resolved;
  try {
    resolved = await next(specifier, context);
  } catch (error) {
    if (!/^\.\.?\/.*\.js$/.test(specifier)) throw error;
    resolved = await next(`${specifier.slice(0, -".js".length)}.ts`, context);
  }
  if (!resolved.url.endsWith(".ts")) return resolved;
  for (const { source, built } of roots) {
    if (!resolved.url.startsWith(source)) continue;
    const url = `${built}${resolved.url.slice(source.length, -".ts".length)}.js`;
    if (existsSync(new URL(url))) return { url, format: "module", shortCircuit: true };
  }
  return resolved;
}

export async function load(url, context, next) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return next(url, context);
  esbuild ??= await import("esbuild");
  const path = fileURLToPath(url);
  const { code } = await esbuild.transform(await readFile(path, "utf8"), {
    loader: "ts",
    format: "esm",
    target: "node20",
    sourcefile: path,
  });
  return { format: "module", source: code, shortCircuit: true };
}
