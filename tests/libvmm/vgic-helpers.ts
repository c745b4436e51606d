import { Vgic, type GicVersion } from "../../src/libvmm/vgic/vgic.ts";
import { recordingLog } from "./fake-vcpu.ts";

/** A vGIC whose list-register writes are recorded as "vcpu:intid:prio:group@lr". */
export function makeVgic(version: GicVersion, vcpuCount = 2, lines = 256) {
  const injected: string[] = [];
  const log = recordingLog();
  const vgic = new Vgic({
    version,
    vcpuCount,
    lines,
    log,
    sink: {
      injectIrq: (vcpuId, intid, priority, group, lrIndex) =>
        injected.push(`${vcpuId}:${intid}:${priority}:${group}@${lrIndex}`),
    },
  });
  return { vgic, injected, log };
}
