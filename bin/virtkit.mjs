#!/usr/bin/env node
// The `virtkit` command. It runs the build's JavaScript (build/js/virtkit.cjs, one bundle of src/, from
// `npm run build`, compiled from V8's code cache for it), so nothing is transpiled or compiled at start
// and one file is loaded, and falls back to the TypeScript sources through tsx while that build is
// missing or older than them (after an edit).
import { existsSync, readFileSync, statSync } from "node:fs";
import { register } from "node:module";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { loadBundle } from "./code-cache.mjs";

const root = new URL("../", import.meta.url);
const built = new URL("build/js/", root);
/** The bundle of src/; it exports each source's bindings as "<source>:<name>" (see scripts/build.mjs). */
const bundle = new URL("virtkit.cjs", built);
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
  // One stat per source, by path: with a URL and an existsSync each, this took ~7 ms of every start.
  const rootPath = fileURLToPath(root);
  const newer = sources.find((file) => {
    const source = statSync(`${rootPath}${file}`, { throwIfNoEntry: false });
    return source === undefined || source.mtimeMs >= builtAt;
  });
  return newer && `${newer} is newer than build/js`;
}

/**
 * PD modules are TypeScript (examples/<name>/*.ts, or a user's beside their .system file). One with a
 * counterpart in build/js (the examples') is imported from there: its imports of src/ are build/js/src/'s
 * modules, which re-export the bundle's, so a PD gets the very module instances the CLI runs. Any
 * other is loaded through module hooks (source-modules.mjs), registered on first need only, since
 * their worker thread costs start-up time, and after the CLI's modules are loaded, so those do not
 * pass through them.
 */
function useBuiltProgramModules(cli) {
  const roots = ["src/", "examples/"].map((folder) => ({
    source: new URL(folder, root).href,
    built: new URL(folder, built).href,
  }));
  let hooked = false;
  cli["src/microkit/program.ts:setProgramModuleImporter"]((url) => {
    for (const folder of roots) {
      if (!url.startsWith(folder.source) || !url.endsWith(".ts")) continue;
      const prebuilt = `${folder.built}${url.slice(folder.source.length, -".ts".length)}.js`;
      if (existsSync(new URL(prebuilt))) return import(prebuilt);
    }
    if (!hooked) {
      register("./source-modules.mjs", import.meta.url, { data: { roots } });
      hooked = true;
      trace("TypeScript PD modules load through esbuild, their imports of src/ and examples/ from build/js");
    }
    return import(url);
  });
}

const stale = staleBuild();
let main;
if (stale === undefined) {
  const { exports: cli, codeCache } = loadBundle(bundle, process.argv[2] === "run" ? "run" : "cli");
  main = cli["src/cli/main.ts:main"];
  trace(`CLI loaded from build/js/virtkit.cjs, code cache: ${codeCache}`);
  // Only `run` loads PD modules.
  if (process.argv[2] === "run") useBuiltProgramModules(cli);
} else {
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  ({ main } = await import(new URL("src/cli/main.ts", root).href));
  trace(`CLI loaded from src through tsx: ${stale} (npm run build makes it start faster)`);
}
process.exitCode = await main(process.argv.slice(2));
