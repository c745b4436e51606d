import { describe, expect, it } from "vitest";
import { streamProgress } from "../../src/guest/progress.ts";

function recorder(isTTY: boolean) {
  const writes: string[] = [];
  return { stream: { isTTY, columns: 40, write: (text: string) => writes.push(text) }, writes };
}

describe("build progress display", () => {
  it("redraws one spinner line with the line count on a terminal", () => {
    const { stream, writes } = recorder(true);
    const show = streamProgress(stream);
    show({ type: "phase", phase: "building Image" });
    show({ type: "output", phase: "building Image", lines: 1, line: "  CC      init/main.o" });
    show({
      type: "output",
      phase: "building Image",
      lines: 2,
      line: "  CC      kernel/fork.o and a very long tail that will not fit",
    });
    show({ type: "done", phase: "building Image", seconds: 12.34 });
    expect(writes[0]).toBe("virtkit: building Image\n");
    expect(writes[1]).toBe("\r\x1b[2K⠙ 1 lines  CC      init/main.o");
    expect(writes[2]!.length).toBeLessThanOrEqual("\r\x1b[2K".length + 39);
    expect(writes.slice(-2)).toEqual(["\r\x1b[2K", "virtkit: building Image: done in 12.3 s\n"]);
  });

  it("writes plain lines, and only every few thousand output lines, elsewhere", () => {
    const { stream, writes } = recorder(false);
    const show = streamProgress(stream);
    for (let lines = 1; lines <= 4500; lines++)
      show({ type: "output", phase: "building Image", lines, line: "x" });
    expect(writes).toEqual([
      "virtkit:   building Image: 2000 lines of output\n",
      "virtkit:   building Image: 4000 lines of output\n",
    ]);
  });
});
