#!/usr/bin/env node
// The `virtkit` command. It runs the build's JavaScript (build/js, from `npm run build`), so nothing is
// transpiled at start, and falls back to the TypeScript sources through tsx while that build is
// missing or older than them (after an edit).
import { existsSync, readFileSync, statSync } from "node:fs";
import { register } from "node:module";
import { performance } from "node:perf_hooks";

const root = new URL("../", import.meta.url);
const built = new URL("build/js/", root);
const tracing = Boolean(process.env.VIRTKIT_TRACE);

/** Times since process start, on stderr, when VIRTKIT_TRACE is set. */
function trace(event) {
  if (tracing) process.stderr.write(`virtkit: trace: ${performance.now().toFixed(1)} ms: ${event}\n`);
}

/** Why build/js cannot be used, or undefined when it matches the sources. */
function staleBuild() {
  const manifest = new URL("manifest.json", built);
  if (!existsSync(manifest)) return "there is no build/js";
  const builtAt = statSync(manifest).mtimeMs;
  const { sources } = JSON.parse(readFileSync(manifest, "utf8"));
  const newer = sources.find((file) => {
    const source = new URL(file, root);
    return !existsSync(source) || statSync(source).mtimeMs >= builtAt;
  });
  return newer && `${newer} is newer than build/js`;
}

/**
 * PD modules are TypeScript (examples/<name>/*.ts, or a user's beside their .system file). The hooks
 * are registered after the CLI's modules are loaded, so those do not pass through them.
 */
function loadTypeScriptModules() {
  const roots = ["src/", "examples/"].map((folder) => ({
    source: new URL(folder, root).href,
    built: new URL(folder, built).href,
  }));
  register("./source-modules.mjs", import.meta.url, { data: { roots } });
  trace("PD modules load from build/js, other TypeScript through esbuild");
}

const stale = staleBuild();
let main;
if (stale === undefined) {
  ({ main } = await import(new URL("src/cli/main.js", built).href));
  trace("CLI loaded from build/js");
  // Only `run` loads PD modules.
  if (process.argv[2] === "run") loadTypeScriptModules();
} else {
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  ({ main } = await import(new URL("src/cli/main.ts", root).href));
  trace(`CLI loaded from src through tsx: ${stale} (npm run build makes it start faster)`);
}
process.exitCode = await main(process.argv.slice(2));
