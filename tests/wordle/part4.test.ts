// Part 4 of the tutorial end to end: the Linux guest brings up the passed-through virtio-net NIC,
// gets a lease by DHCP, fetches the word from the embedded trustworthy.systems, and writes it to the
// VMM letter by letter; the VMM hands it to the Wordle server; the player guesses it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { Session, WORDLE, word } from "./session.ts";

const PART4_TIMEOUT_MS = 300_000;

describe("Wordle part 4", () => {
  test(
    "the word the guest fetched is the word to guess",
    async () => {
      await ensureGuestImages({ kernel: "minimal" });
      const session = await Session.part4("crane");
      await session.waitFor("lease of 10.0.2.15 obtained from 10.0.2.2");
      await session.waitFor(
        "Linux user-space: Send request to trustworthy.systems/projects/microkit/tutorial/word",
      );
      await session.waitFor("Linux user-space: Received word");
      await session.waitFor("Linux user-space: Transfer word to virtual-machine monitor");
      await session.waitFor("VMM: the guest sent a word; handing it to the Wordle server");
      // Enter on an empty row redraws the board; then the guess.
      await session.type("\r");
      await session.type("crane\r");
      expect(session.board()[0]).toBe(word("crane", "green"));
      session.system.stop();
      await session.done;
    },
    PART4_TIMEOUT_MS,
  );

  test(
    "without the vmm-wordle_server channel the PPC fails as in the tutorial, with the channel to add",
    async () => {
      const part4 = readFileSync(join(WORDLE, "part4.system"), "utf8");
      const channel = /\s*<!-- The VMM hands the word[^]*?<\/channel>/.exec(part4)![0];
      const session = await Session.part4("crane", part4.replace(channel, ""));
      await session.waitFor("vmm microkit_ppcall: invalid channel given '1'\n");
      await session.waitFor('\'vmm\' needs <end pd="vmm" id="1" pp="true"/> in a <channel>');
      session.system.stop();
      await session.done;
    },
    PART4_TIMEOUT_MS,
  );
});
