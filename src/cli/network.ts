// `virtkit run`'s network options: the user-mode network behind the board's NIC, its embedded word
// server, port forwards and capture.

import { InvalidArgumentError, Option, type Command } from "commander";
import { createUserNetwork } from "../machine/backends/net/user-network.ts";
import type { SystemNetwork } from "../microkit/index.ts";

export interface NetworkOptions {
  net: "user" | "none";
  word?: string;
  wordSeed?: number;
  pcap?: string;
  netForward: { hostPort: number; guestPort: number }[];
}

export function addNetworkOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--net <kind>",
        "user: a NIC in the board's virtio-mmio slot for it, on a user-mode network like QEMU's " +
          "-netdev user (DHCP 10.0.2.15, gateway 10.0.2.2, DNS 10.0.2.3, TCP to the host's network); none: no NIC",
      )
        .choices(["user", "none"])
        .default("user"),
    )
    .option(
      "--word <word>",
      "the five-letter word trustworthy.systems/projects/microkit/tutorial/word serves (default: a different one each request)",
      parseWord,
    )
    .option("--word-seed <n>", "seeds the sequence of words the word server serves", parseSeed)
    .option("--pcap <file>", "write every frame on the virtual wire to FILE (pcap, for Wireshark or tcpdump)")
    .option(
      "--net-forward <rule>",
      "tcp:HOSTPORT:GUESTPORT: a connection to 127.0.0.1:HOSTPORT on the host reaches the guest's GUESTPORT (repeatable)",
      (rule: string, previous: NetworkOptions["netForward"]) => [...previous, parseForward(rule)],
      [] as NetworkOptions["netForward"],
    );
}

function parseWord(text: string): string {
  if (!/^[a-z]{5}$/.test(text)) throw new InvalidArgumentError("give five lowercase letters a-z.");
  return text;
}

function parseSeed(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > 0xffff_ffff) {
    throw new InvalidArgumentError("give a whole number from 0 to 4294967295.");
  }
  return Number(text);
}

function parseForward(rule: string): { hostPort: number; guestPort: number } {
  const match = /^tcp:([0-9]{1,5}):([0-9]{1,5})$/.exec(rule);
  const hostPort = Number(match?.[1]);
  const guestPort = Number(match?.[2]);
  if (!match || hostPort > 65535 || guestPort < 1 || guestPort > 65535) {
    throw new InvalidArgumentError(
      "write it tcp:HOSTPORT:GUESTPORT, ports 1-65535 (HOSTPORT 0 picks a free one).",
    );
  }
  return { hostPort, guestPort };
}

/** The network `--net` asks for, with its problems reported on stderr. */
export function systemNetwork(options: NetworkOptions): SystemNetwork | undefined {
  if (options.net === "none") return undefined;
  return {
    connect: ({ clock, host }) => {
      const network = createUserNetwork({
        clock,
        host,
        word: options.word,
        wordSeed: options.wordSeed,
        pcap: options.pcap,
        forwards: options.netForward,
        log: (message) => process.stderr.write(`virtkit: network: ${message}\n`),
      });
      network.ready.then(
        (bound) => {
          for (const f of bound) {
            process.stderr.write(
              `virtkit: network: ${f.hostAddress}:${f.hostPort} on the host reaches ${f.guestAddress}:${f.guestPort}\n`,
            );
          }
        },
        (error: unknown) => process.stderr.write(`virtkit: network: ${String(error)}\n`),
      );
      return network;
    },
  };
}
