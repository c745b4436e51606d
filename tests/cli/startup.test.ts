// How `virtkit` starts: from the build's bundle of src/ and V8's code cache for it, with TypeScript PD
// modules (the examples' from the build, others transpiled) whose imports of src/ get the very module
// instances the CLI uses.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");

function virtkit(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "bin/virtkit.mjs"), ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, VIRTKIT_TRACE: "1" },
  });
}

/** What a Node ES module script (run in a fresh process, as `virtkit` runs) printed, parsed as JSON. */
function nodeScript(script: string): unknown {
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    cwd: ROOT,
  });
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout);
}

const BUNDLE = join(ROOT, "build/js/virtkit.cjs");

/**
 * A script's line that loads the bundle at `file` as bin/virtkit.mjs does, setting `bundle` to its
 * exports and `codeCache` to what became of its code cache.
 */
function loadingBundle(file: string): string {
  const loader = pathToFileURL(join(ROOT, "bin/code-cache.mjs")).href;
  return (
    `const { loadBundle } = await import(${JSON.stringify(loader)}); ` +
    `const { exports: bundle, codeCache } = loadBundle(new URL(${JSON.stringify(pathToFileURL(file).href)}));`
  );
}

/** Trace lines apart, what the command itself wrote to stderr. */
const untraced = (stderr: string): string =>
  stderr
    .split("\n")
    .filter((line) => !line.startsWith("virtkit: trace: "))
    .join("\n");

/**
 * A one-PD system outside the repository whose TypeScript module refuses to start with a ProgramError
 * imported from src/, through a helper module it imports as `./refusal.js` (TypeScript's NodeNext
 * spelling of refusal.ts).
 */
function refusingSystem(): string {
  const folder = mkdtempSync(join(tmpdir(), "virtkit-startup-"));
  writeFileSync(
    join(folder, "alone.system"),
    '<?xml version="1.0" encoding="UTF-8"?>\n<system>\n  <protection_domain name="alone" priority="100">\n' +
      '    <program_image path="alone.elf" />\n  </protection_domain>\n</system>\n',
  );
  const microkit = pathToFileURL(join(ROOT, "src/microkit/index.ts")).href;
  writeFileSync(
    join(folder, "refusal.ts"),
    `import { ProgramError } from ${JSON.stringify(microkit)};\n` +
      'export const refusal = (): never => {\n  throw new ProgramError("alone: refused by its factory");\n};\n',
  );
  writeFileSync(
    join(folder, "alone.ts"),
    `import { definePd } from ${JSON.stringify(microkit)};\n` +
      'import { refusal } from "./refusal.js";\nexport default definePd(() => refusal());\n',
  );
  return join(folder, "alone.system");
}

describe("virtkit start-up", () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { cwd: ROOT, stdio: "ignore" });
  }, 300_000);

  it("runs the build's JavaScript and sets up PD module loading only for run", () => {
    const help = virtkit("--help");
    expect(help.status).toBe(0);
    expect(help.stderr).toMatch(
      /^virtkit: trace: [\d.]+ ms: CLI loaded from build\/js\/virtkit\.cjs, code cache: (used|missing|stale or damaged|rejected by V8)$/m,
    );
    expect(help.stderr).not.toContain("PD modules");
    expect(help.stdout).toContain("Usage: virtkit");
  });

  it("makes each built module of src/ the bundle's instance of its source", () => {
    // What a PD module imports from build/js/src/ must be what the bundle's CLI uses: every export of
    // every source, the very same object, and nothing missing (an `export *` included).
    const { sources } = JSON.parse(readFileSync(join(ROOT, "build/js/manifest.json"), "utf8")) as {
      sources: string[];
    };
    const bundled = sources.filter((source) => source.startsWith("src/"));
    const mismatches = nodeScript(`
      ${loadingBundle(BUNDLE)}
      const mismatches = [];
      for (const source of ${JSON.stringify(bundled)}) {
        const built = await import(new URL("build/js/" + source.replace(/\\.ts$/, ".js"), ${JSON.stringify(pathToFileURL(`${ROOT}/`).href)}));
        const names = Object.keys(bundle).filter((key) => key.startsWith(source + ":"));
        if (names.length !== Object.keys(built).length) mismatches.push(source + ": " + Object.keys(built).length + " exports, the bundle has " + names.length);
        for (const key of names) {
          if (built[key.slice(source.length + 1)] !== bundle[key]) mismatches.push(key);
        }
      }
      console.log(JSON.stringify(mismatches));
    `);
    expect(mismatches).toEqual([]);
    // One the examples' PD modules use, checked by name so the loop above cannot pass vacuously.
    const sameClass = nodeScript(`
      ${loadingBundle(BUNDLE)}
      const microkit = await import(${JSON.stringify(pathToFileURL(join(ROOT, "build/js/src/microkit/index.js")).href)});
      console.log(JSON.stringify(typeof microkit.ProgramError === "function" && microkit.ProgramError === bundle["src/microkit/program.ts:ProgramError"]));
    `);
    expect(sameClass).toBe(true);
  });

  it("gives a bundled module its source's import.meta, relative to the bundle's place", () => {
    const places = nodeScript(`
      ${loadingBundle(BUNDLE)}
      console.log(JSON.stringify([
        bundle["src/guest/initramfs/rootfs.ts:SKELETON_DIR"],
        bundle["src/guest/kernel/minimal-kernel.ts:MINIMAL_CONFIG_FRAGMENT"],
        bundle["src/guest/images.ts:EXAMPLES_DIR"],
      ]));
    `);
    expect(places).toEqual([
      join(ROOT, "src/guest/initramfs/skeleton"),
      join(ROOT, "src/guest/kernel/minimal.config"),
      join(ROOT, "examples"),
    ]);
    // Relocatable: the places come from the bundle's own URL, no absolute path is baked in.
    expect(readFileSync(BUNDLE, "utf8")).not.toContain(ROOT);
  });

  it("compiles the bundle from V8's code cache, made again when missing, stale or damaged", () => {
    // A copy of the bundle, so that the damage done here never meets a virtkit starting meanwhile.
    const bundle = join(mkdtempSync(join(tmpdir(), "virtkit-code-cache-")), "virtkit.cjs");
    copyFileSync(BUNDLE, bundle);
    const cache = `${bundle}.modules.cache`;
    // What became of the cache, and whether the bundle's CLI was there all the same.
    const load = () =>
      nodeScript(
        `${loadingBundle(bundle)} console.log(JSON.stringify([codeCache, typeof bundle["src/cli/main.ts:main"]]));`,
      );
    expect(load()).toEqual(["missing", "function"]);
    expect(existsSync(cache)).toBe(true);
    expect(load()).toEqual(["used", "function"]);

    const made = readFileSync(cache);
    const damages: [string, Buffer][] = [
      ["a changed byte of V8's data", Buffer.concat([made.subarray(0, -1), Buffer.from([made.at(-1)! ^ 1])])],
      ["half the file", made.subarray(0, made.length >> 1)],
      ["no header", made.subarray(made.indexOf(10) + 1)],
      ["not a cache at all", Buffer.from("virtkit\n")],
    ];
    for (const [damage, contents] of damages) {
      writeFileSync(cache, contents);
      expect(load(), damage).toEqual(["stale or damaged", "function"]);
      expect(load(), `made again after ${damage}`).toEqual(["used", "function"]);
    }

    // Data V8 refuses though its header is right (as after a Node update): compiled, and made again.
    const { size, mtimeMs } = statSync(bundle);
    const refused = Buffer.from("not V8's code cache");
    const digest = createHash("sha1").update(refused).digest("hex");
    writeFileSync(
      cache,
      Buffer.concat([Buffer.from(`virtkit-code-cache ${size} ${mtimeMs} ${digest}\n`), refused]),
    );
    expect(load()).toEqual(["rejected by V8", "function"]);
    expect(load()).toEqual(["used", "function"]);

    // A rebuilt bundle (here only its time changed) makes its cache stale.
    utimesSync(bundle, new Date(), new Date(mtimeMs + 1000));
    expect(load()).toEqual(["stale or damaged", "function"]);
    expect(load()).toEqual(["used", "function"]);
  });

  it("gives a TypeScript PD the CLI's own module instances", () => {
    // A ProgramError a PD's factory throws is its message as it stands; any other error (a second
    // copy of the class, as a PD importing src/ transpiled apart would throw) is wrapped as "could not
    // start".
    const run = virtkit("run", "--console", "stdio", refusingSystem());
    expect(run.stderr).toMatch(/TypeScript PD modules load through esbuild/);
    expect(untraced(run.stderr)).toBe("alone: refused by its factory\n");
    expect(run.status).toBe(1);
  });

  it("loads an example's PD modules from the build without module hooks", () => {
    // The Wordle PDs are built; running them must not start the hooks' worker thread.
    const run = virtkit("run", "--console", "stdio", join(ROOT, "examples/wordle/part3.system"));
    expect(run.stdout).toContain("[ ] [ ] [ ] [ ] [ ]");
    expect(run.stderr).not.toContain("through esbuild");
    expect(run.status).toBe(0);
  });
});
