// The sound driver: the VMM's streams to WAV files in the folder virtkit run --sound-dir names (a
// temporary folder otherwise), one file per prepared output stream.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wavSoundBackend } from "../../src/machine/backends/wav.ts";
import { soundDriver } from "../../src/sddf/index.ts";

export default soundDriver({
  backend: ({ hostOutput }) => wavSoundBackend({ directory: soundFolder(hostOutput.soundDirectory) }),
  sharedState: "shared_state",
  timer: { irq: 1 },
  clients: [
    { cmdReq: "cmd_req", cmdRes: "cmd_res", pcmReq: "pcm_req", pcmRes: "pcm_res", data: "data", channel: 0 },
  ],
});

function soundFolder(chosen: string | undefined): string {
  if (chosen === undefined) return mkdtempSync(join(tmpdir(), "virtkit-sound-"));
  mkdirSync(chosen, { recursive: true });
  return chosen;
}
