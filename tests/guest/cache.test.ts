import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  artifactDir,
  cacheRoot,
  ensureArtifact,
  listArtifacts,
  writeArtifact,
} from "../../src/guest/cache.ts";

function countingBuilder(contents: string, delayMs = 0) {
  const builder = async (dir: string) => {
    builder.calls += 1;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return writeArtifact(
      dir,
      { kind: "initrd", name: "test", file: "initrd.gz", source: "test" },
      new TextEncoder().encode(contents),
    );
  };
  builder.calls = 0;
  return builder;
}

describe("guest image cache", () => {
  it("lives in $VIRTKIT_CACHE, else $XDG_CACHE_HOME/virtkit, else ~/.cache/virtkit", () => {
    expect(cacheRoot({ VIRTKIT_CACHE: "/x", XDG_CACHE_HOME: "/y" })).toBe("/x");
    expect(cacheRoot({ XDG_CACHE_HOME: "/y" })).toBe("/y/virtkit");
    expect(cacheRoot({})).toBe(join(homedir(), ".cache/virtkit"));
  });

  it("builds once; a cache hit does not call the builder again", async () => {
    const root = mkdtempSync(join(tmpdir(), "virtkit-cache-"));
    const dir = artifactDir(root, "initrd", "test", "ab".repeat(32));
    const build = countingBuilder("first");
    const first = await ensureArtifact(dir, build);
    const second = await ensureArtifact(dir, build);
    expect(build.calls).toBe(1);
    expect(first.built).toBe(true);
    expect(second.built).toBe(false);
    expect(second.manifest).toEqual(first.manifest);
    expect(readFileSync(second.path, "utf8")).toBe("first");
    expect(listArtifacts(root).map((a) => a.manifest.name)).toEqual(["test"]);
  });

  it("lets concurrent callers wait for one build", async () => {
    const root = mkdtempSync(join(tmpdir(), "virtkit-cache-"));
    const dir = artifactDir(root, "initrd", "test", "cd".repeat(32));
    const build = countingBuilder("shared", 300);
    const results = await Promise.all([
      ensureArtifact(dir, build),
      ensureArtifact(dir, build),
      ensureArtifact(dir, build),
    ]);
    expect(build.calls).toBe(1);
    expect(results.filter((r) => r.built)).toHaveLength(1);
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it("rebuilds an artifact whose build was interrupted (no manifest)", async () => {
    const root = mkdtempSync(join(tmpdir(), "virtkit-cache-"));
    const dir = artifactDir(root, "initrd", "test", "ef".repeat(32));
    await ensureArtifact(dir, countingBuilder("old"));
    writeFileSync(join(dir, "manifest.json.tmp"), "{");
    rmSync(join(dir, "manifest.json"));
    const build = countingBuilder("new");
    const result = await ensureArtifact(dir, build);
    expect(build.calls).toBe(1);
    expect(readFileSync(result.path, "utf8")).toBe("new");
  });

  it("takes over a lock left by a process that died", async () => {
    const root = mkdtempSync(join(tmpdir(), "virtkit-cache-"));
    const dir = artifactDir(root, "initrd", "test", "01".repeat(32));
    // PIDs are at most 2^22 on Linux, so this one cannot be running.
    mkdirSync(join(dir, ".."), { recursive: true });
    writeFileSync(`${dir}.lock`, "99999999");
    const build = countingBuilder("after");
    expect((await ensureArtifact(dir, build)).built).toBe(true);
  });
});
