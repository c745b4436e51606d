import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ProgressEvent } from "../../src/guest/progress.ts";
import { runLogged, stopOrphanedBuild } from "../../src/guest/run-logged.ts";

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "virtkit-run-"));
  const events: ProgressEvent[] = [];
  return {
    dir,
    events,
    options: {
      cwd: dir,
      logFile: join(dir, "build.log"),
      phase: "test",
      onProgress: (e: ProgressEvent) => events.push(e),
    },
  };
}

describe("logged build commands", () => {
  it("appends output to the log and counts its lines as progress", async () => {
    const { events, options } = setup();
    await runLogged("sh", ["-c", "echo one; echo two >&2; echo three"], options);
    const log = readFileSync(options.logFile, "utf8").split("\n");
    expect(log[0]).toBe("$ sh -c echo one; echo two >&2; echo three");
    expect(log.slice(1).sort()).toEqual(["", "one", "three", "two"]);
    expect(events.map((e) => (e.type === "output" ? e.lines : 0))).toEqual([1, 2, 3]);
  });

  it("reports a failure with the exit status and the log's last lines", async () => {
    const { options } = setup();
    await expect(runLogged("sh", ["-c", "echo 'cc1: error: bad'; exit 2"], options)).rejects.toThrow(
      /test failed: sh -c .* exited with 2\.\nLast lines of .*build.log:\n[\s\S]*cc1: error: bad/,
    );
  });

  it("stops a build group left running, so a retry does not race it", async () => {
    const { dir, options } = setup();
    const pidFile = join(dir, "make-pid");
    const running = runLogged("sh", ["-c", "sleep 60 & sleep 60; wait"], { ...options, pidFile });
    const outcome = running.then(
      () => "finished",
      (err: Error) => err.message,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(pidFile)).toBe(true);
    const group = Number(readFileSync(pidFile, "utf8"));
    await stopOrphanedBuild(pidFile);
    expect(await outcome).toMatch(/exited with SIGKILL/);
    expect(() => process.kill(-group, 0)).toThrow();
    expect(existsSync(pidFile)).toBe(false);
  });
});
