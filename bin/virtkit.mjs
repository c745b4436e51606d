#!/usr/bin/env node
// The `virtkit` command. It runs the build's JavaScript (build/src, from `npm run build`), so virtkit's
// own TypeScript is not transpiled at every start, and falls back to the sources through tsx while that
// build is missing or older than them (after an edit).
import { existsSync, readFileSync, statSync } from "node:fs";
import { register } from "node:module";
import { performance } from "node:perf_hooks";

const root = new URL("../", import.meta.url);
const built = new URL("build/src/", root);
const source = new URL("src/", root);
const tracing = Boolean(process.env.VIRTKIT_TRACE);

/** Times since process start, on stderr, when VIRTKIT_TRACE is set. */
function trace(event) {
  if (tracing) process.stderr.write(`virtkit: trace: ${performance.now().toFixed(1)} ms: ${event}\n`);
}

/** Why build/src cannot be used, or undefined when it matches the sources. */
function staleBuild() {
  const manifest = new URL("manifest.json", built);
  if (!existsSync(manifest)) return "there is no build/src";
  const builtAt = statSync(manifest).mtimeMs;
  const { sources } = JSON.parse(readFileSync(manifest, "utf8"));
  const newer = sources.find(
    (file) => !existsSync(new URL(file, source)) || statSync(new URL(file, source)).mtimeMs >= builtAt,
  );
  return newer && `src/${newer} is newer than build/src`;
}

/**
 * TypeScript PD modules (examples/<name>/*.ts) are loaded through tsx. It is registered after the CLI's
 * modules are loaded, so they do not pass through its hooks, and their imports of src/*.ts are sent to
 * the build's modules, so a PD and the CLI share one instance of each module.
 */
async function loadTypeScriptModules() {
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  register("./source-modules.mjs", import.meta.url, { data: { source: source.href, built: built.href } });
  trace("TypeScript PD modules load through tsx");
}

const stale = staleBuild();
let main;
if (stale === undefined) {
  ({ main } = await import(new URL("cli/main.js", built).href));
  trace("CLI loaded from build/src");
  // Only `run` loads PD modules.
  if (process.argv[2] === "run") await loadTypeScriptModules();
} else {
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  ({ main } = await import(new URL("cli/main.ts", source).href));
  trace(`CLI loaded from src through tsx: ${stale} (npm run build makes it start faster)`);
}
process.exitCode = await main(process.argv.slice(2));
