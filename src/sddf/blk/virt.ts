// The sDDF block virtualiser (blk/components/virt.c, partitioning.c): reads the disk's MBR or GPT, gives each client one partition, checks and translates every request.

import { definePd, type Pd, type PdProgramDefinition } from "../../microkit/index.ts";
import { SddfError, mapSizeFrom, regionBytes, setvarAddress } from "../shared.ts";
import {
  BLK_TRANSFER_SIZE,
  BlkQueueHandle,
  BlkReqCode,
  BlkRespStatus,
  BlkStorageInfo,
  type BlkQueueConfig,
  type BlkRequest,
  type BlkStorageInfoFields,
} from "./queue.ts";
import { mbrPartitions, parseGptEntries, parseGptHeader, parseMbr, type Partition } from "./partitions.ts";

/** A block queue pair, its storage-info region and the channel to the PD at the other end. */
export interface BlkConnection extends BlkQueueConfig {
  channel: number;
  /** setvar_vaddr of the storage-info region. */
  storageInfo: string;
}

export interface BlkVirtClient extends BlkConnection {
  /** setvar_vaddr of the virtualiser's map of this client's data region (requests' offsets are into it). */
  data: string;
  /** The partition this client gets: 0–3 for MBR primaries, the entry index for GPT. */
  partition: number;
}

export interface BlkVirtConfig {
  /** The queues to the driver, and a data region of the virtualiser's own for reading the partition table. */
  driver: BlkConnection & { data: string };
  clients: BlkVirtClient[];
  /** Print BLK_VIRT|INFO lines (the partition each client gets); errors are always printed. */
  log?: boolean;
}

/** A PD's view of a data region: its bytes' size and the physical (I/O) address the driver uses. */
interface DataRegion {
  vaddr: number;
  size: number;
  ioAddr: number;
}

interface ClientState {
  queue: BlkQueueHandle;
  info: BlkStorageInfo;
  data: DataRegion;
  /** First block and number of blocks of its partition, once known. */
  start: number;
  blocks: number;
  status: "waiting" | "ready" | "failed";
  inFlight: number;
  reported: boolean;
}

/** Bookkeeping for a request sent to the driver. */
type Outstanding =
  | { kind: "client"; client: number; id: number }
  | { kind: "metadata"; then: (bytes: Uint8Array | undefined) => void; count: number };

const codeName = (code: number): string =>
  (Object.entries(BlkReqCode).find(([, v]) => v === code)?.[0] ?? String(code)).toLowerCase();

/** A PD program: the block virtualiser. Priority between the driver's (above) and its clients' (below). */
export function blkVirt(config: BlkVirtConfig): PdProgramDefinition {
  return definePd(() => {
    let driver: BlkQueueHandle;
    let driverInfo: BlkStorageInfo;
    let driverData: DataRegion;
    let clients: ClientState[] = [];
    let state: "waiting" | "reading" | "ready" = "waiting";
    const outstanding = new Map<number, Outstanding>();
    let nextId = 0;
    let lbaSize = 512;

    const error = (pd: Pd, text: string): void => pd.dbgPuts(`BLK_VIRT|ERROR: ${text}\n`);
    const info = (pd: Pd, text: string): void => {
      if (config.log) pd.dbgPuts(`BLK_VIRT|INFO: ${text}\n`);
    };

    function dataRegion(pd: Pd, setvar: string): DataRegion {
      const vaddr = setvarAddress(pd, setvar, "block virtualiser");
      const region = pd.regions.find((r) => vaddr >= r.vaddr && vaddr < r.vaddr + r.size)!;
      return { vaddr, size: mapSizeFrom(pd, vaddr), ioAddr: region.paddr + (vaddr - region.vaddr) };
    }

    function allocateId(): number {
      while (outstanding.has(nextId)) nextId = (nextId + 1) >>> 0;
      const id = nextId;
      nextId = (nextId + 1) >>> 0;
      return id;
    }

    // ---- the partition table ----

    /** Reads `count` LBAs from `firstLba` into the driver data region, then calls `then` with a copy (or undefined on failure). */
    function readLbas(
      pd: Pd,
      firstLba: number,
      count: number,
      then: (bytes: Uint8Array | string) => void,
    ): void {
      const perBlock = BLK_TRANSFER_SIZE / lbaSize;
      const block = Math.floor(firstLba / perBlock);
      const blocks = Math.ceil((((firstLba % perBlock) + count) * lbaSize) / BLK_TRANSFER_SIZE);
      const capacity = driverInfo.read().capacity;
      if (!Number.isFinite(firstLba) || block + blocks > capacity) {
        then(`LBAs ${firstLba}..${firstLba + count - 1} lie outside the disk (${capacity * perBlock} LBAs)`);
        return;
      }
      if (blocks * BLK_TRANSFER_SIZE > driverData.size) {
        then(
          `reading the partition table needs ${blocks * BLK_TRANSFER_SIZE} bytes but the virtualiser's data region is ${driverData.size}; make it larger`,
        );
        return;
      }
      const id = allocateId();
      outstanding.set(id, {
        kind: "metadata",
        count: blocks,
        then: (bytes) => {
          if (!bytes) return then(`reading block ${block} failed`);
          const from = (firstLba % perBlock) * lbaSize;
          then(bytes.slice(from, from + count * lbaSize));
        },
      });
      driver.enqueueReq({
        code: BlkReqCode.READ,
        ioOrOffset: driverData.ioAddr,
        blockNumber: block,
        count: blocks,
        id,
      });
      pd.notify(config.driver.channel);
    }

    function readPartitionTable(pd: Pd): void {
      state = "reading";
      const sectorSize = driverInfo.read().sectorSize;
      lbaSize =
        sectorSize > 0 && sectorSize <= BLK_TRANSFER_SIZE && BLK_TRANSFER_SIZE % sectorSize === 0
          ? sectorSize
          : 512;
      readLbas(pd, 0, 1, (sector0) => {
        if (typeof sector0 === "string") return failAll(pd, `cannot read the MBR: ${sector0}`);
        const mbr = parseMbr(sector0);
        if (typeof mbr === "string") return failAll(pd, `no partition table on the disk: ${mbr}`);
        if (!mbr.protective) {
          info(pd, "MBR partitioning detected");
          return assignPartitions(pd, mbrPartitions(mbr), "MBR");
        }
        info(pd, "Protective MBR of GPT is detected");
        const lastLba = driverInfo.read().capacity * (BLK_TRANSFER_SIZE / lbaSize) - 1;
        readGpt(pd, 1, (primary) => {
          error(pd, `primary GPT is invalid (${primary}); trying the backup at LBA ${lastLba}`);
          readGpt(pd, lastLba, (backup) =>
            failAll(pd, `no valid GPT: primary: ${primary}; backup: ${backup}`),
          );
        });
      });
    }

    function readGpt(pd: Pd, headerLba: number, fallback: (reason: string) => void): void {
      readLbas(pd, headerLba, 1, (sector) => {
        if (typeof sector === "string") return fallback(sector);
        const header = parseGptHeader(sector);
        if (typeof header === "string") return fallback(header);
        const entryLbas = Math.ceil((header.numEntries * header.entrySize) / lbaSize);
        readLbas(pd, header.entriesLba, entryLbas, (entries) => {
          if (typeof entries === "string") return fallback(entries);
          const partitions = parseGptEntries(header, entries);
          if (typeof partitions === "string") return fallback(partitions);
          assignPartitions(pd, partitions, "GPT");
        });
      });
    }

    function assignPartitions(pd: Pd, partitions: Partition[], scheme: string): void {
      const perBlock = BLK_TRANSFER_SIZE / lbaSize;
      const device = driverInfo.read();
      const listing = (): string =>
        partitions.length === 0
          ? "the disk has none"
          : `the disk has ${partitions.map((p) => `${p.index} (${p.sectors} sectors from LBA ${p.startLba}${p.name ? `, '${p.name}'` : ""})`).join(", ")}`;
      config.clients.forEach((c, i) => {
        const client = clients[i]!;
        const partition = partitions.find((p) => p.index === c.partition);
        if (!partition) {
          error(
            pd,
            `client ${i} is given ${scheme} partition ${c.partition}, which does not exist: ${listing()}`,
          );
          client.status = "failed";
          return;
        }
        if (partition.startLba % perBlock !== 0) {
          error(
            pd,
            `${scheme} partition ${c.partition} starts at LBA ${partition.startLba}, not on a ${BLK_TRANSFER_SIZE}-byte boundary; client ${i} gets no disk`,
          );
          client.status = "failed";
          return;
        }
        client.start = partition.startLba / perBlock;
        client.blocks = Math.floor(partition.sectors / perBlock);
        if (client.start + client.blocks > device.capacity) {
          error(
            pd,
            `${scheme} partition ${c.partition} runs past the end of the disk; client ${i} gets no disk`,
          );
          client.status = "failed";
          return;
        }
        const fields: Omit<BlkStorageInfoFields, "ready"> = {
          serialNumber: device.serialNumber,
          readOnly: device.readOnly,
          sectorSize: device.sectorSize,
          blockSize: device.blockSize,
          queueDepth: client.queue.capacity,
          cylinders: 0,
          heads: 0,
          blocks: 0,
          capacity: client.blocks,
        };
        client.info.write(fields);
        client.info.setReady(true);
        client.status = "ready";
        info(
          pd,
          `client ${i} gets ${scheme} partition ${c.partition}: ${client.blocks} blocks from block ${client.start}`,
        );
        // Tell the client its storage info is ready: a PD cannot spin on the flag as sDDF's C clients do.
        pd.notify(c.channel);
      });
      state = "ready";
    }

    function failAll(pd: Pd, reason: string): void {
      error(pd, `${reason}; every client gets ERR_NO_DEVICE`);
      for (const client of clients) client.status = "failed";
      state = "ready";
    }

    // ---- requests ----

    /** The reason a client's request is refused, or undefined when it is fine. */
    function check(client: ClientState, i: number, req: BlkRequest): string | undefined {
      if (req.code === BlkReqCode.FLUSH || req.code === BlkReqCode.BARRIER) return undefined;
      if (req.code !== BlkReqCode.READ && req.code !== BlkReqCode.WRITE) {
        return `client ${i} gave an invalid request code ${req.code}`;
      }
      if (req.count === 0) return `client ${i} requested zero blocks`;
      if (req.blockNumber + req.count > client.blocks) {
        return `client ${i} ${codeName(req.code)} of blocks ${req.blockNumber}..${req.blockNumber + req.count - 1} is out of bounds: its partition has ${client.blocks} blocks`;
      }
      if (req.ioOrOffset % BLK_TRANSFER_SIZE !== 0) {
        return `client ${i} request offset 0x${req.ioOrOffset.toString(16)} is not aligned to ${BLK_TRANSFER_SIZE} bytes`;
      }
      if (req.ioOrOffset + req.count * BLK_TRANSFER_SIZE > client.data.size) {
        return `client ${i} request offset 0x${req.ioOrOffset.toString(16)} + ${req.count} blocks is outside its data region of 0x${client.data.size.toString(16)} bytes`;
      }
      return undefined;
    }

    /** Moves client `i`'s requests to the driver; true if the driver has new requests. */
    function handleClient(pd: Pd, i: number): boolean {
      const client = clients[i]!;
      const q = client.queue;
      const violation = q.violation();
      if (violation && !client.reported) {
        client.reported = true;
        error(pd, `client ${i}: ${violation}; its requests are ignored until it repairs its queues`);
      }
      let toDriver = false;
      let toClient = false;
      // Take a request only when its response is sure to fit in the client's response queue.
      while (!q.emptyReq() && client.inFlight + q.lengthResp() < q.capacity) {
        if (client.status === "ready" && (driver.fullReq() || outstanding.size >= driver.capacity)) break;
        const req = q.dequeueReq()!;
        const refusal =
          client.status === "ready"
            ? check(client, i, req)
            : `client ${i} has no disk (see the errors above)`;
        if (refusal) {
          error(pd, refusal);
          const status =
            client.status === "ready" ? BlkRespStatus.ERR_INVALID_PARAM : BlkRespStatus.ERR_NO_DEVICE;
          q.enqueueResp({ status, successCount: 0, id: req.id });
          toClient = true;
          continue;
        }
        const data = req.code === BlkReqCode.READ || req.code === BlkReqCode.WRITE;
        const id = allocateId();
        outstanding.set(id, { kind: "client", client: i, id: req.id });
        client.inFlight++;
        driver.enqueueReq({
          code: req.code,
          ioOrOffset: data ? client.data.ioAddr + req.ioOrOffset : 0,
          blockNumber: data ? client.start + req.blockNumber : 0,
          count: data ? req.count : 0,
          id,
        });
        toDriver = true;
      }
      if (toClient) pd.notify(config.clients[i]!.channel);
      return toDriver;
    }

    function handleClients(pd: Pd): void {
      // Clients whose partition is not known yet wait: their requests stay queued.
      let toDriver = false;
      clients.forEach((client, i) => {
        if (client.status !== "waiting" && handleClient(pd, i)) toDriver = true;
      });
      if (toDriver) pd.notify(config.driver.channel);
    }

    function handleDriver(pd: Pd): void {
      const notify = new Set<number>();
      for (let resp = driver.dequeueResp(); resp; resp = driver.dequeueResp()) {
        const entry = outstanding.get(resp.id);
        if (!entry) {
          error(pd, `the driver answered request ${resp.id}, which is not outstanding`);
          continue;
        }
        outstanding.delete(resp.id);
        if (entry.kind === "metadata") {
          const ok = resp.status === BlkRespStatus.OK && resp.successCount === entry.count;
          entry.then(
            ok ? pd.memory.view(driverData.vaddr, entry.count * BLK_TRANSFER_SIZE).slice() : undefined,
          );
          continue;
        }
        const client = clients[entry.client]!;
        client.inFlight--;
        if (
          !client.queue.enqueueResp({ status: resp.status, successCount: resp.successCount, id: entry.id })
        ) {
          error(
            pd,
            `client ${entry.client}'s response queue is full or corrupt: the response to its request ${entry.id} is lost`,
          );
          continue;
        }
        notify.add(entry.client);
      }
      for (const i of notify) pd.notify(config.clients[i]!.channel);
    }

    return {
      init(pd) {
        const component = "block virtualiser";
        driver = BlkQueueHandle.fromPd(pd, config.driver, component);
        driverInfo = BlkStorageInfo.fromPd(pd, config.driver.storageInfo, component);
        driverData = dataRegion(pd, config.driver.data);
        regionBytes(pd, config.driver.data, component); // a readable normal-memory map, checked now
        clients = config.clients.map((c) => ({
          queue: BlkQueueHandle.fromPd(pd, c, component),
          info: BlkStorageInfo.fromPd(pd, c.storageInfo, component),
          data: dataRegion(pd, c.data),
          start: 0,
          blocks: 0,
          status: "waiting",
          inFlight: 0,
          reported: false,
        }));
        if (clients.length === 0) throw new SddfError(`${component} '${pd.name}': no clients configured`);
        if (driverInfo.ready) readPartitionTable(pd);
      },

      notified(pd, channel) {
        if (channel === config.driver.channel) {
          if (state === "waiting" && driverInfo.ready) readPartitionTable(pd);
          handleDriver(pd);
        } else if (!config.clients.some((c) => c.channel === channel)) {
          pd.dbgPuts(`BLK_VIRT|LOG: notification on unexpected channel ${channel}\n`);
          return;
        }
        if (state === "ready") handleClients(pd);
      },
    };
  });
}
