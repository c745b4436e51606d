// The Wordle tutorial's client: keeps the board, sends each finished guess to the Wordle
// server over PPC, and draws the board through the serial server. Without a channel to the
// Wordle server (part 2) guesses are not checked.

import { definePd, type Pd } from "../../src/microkit/index.ts";
import { CharacterState, NUM_TRIES, WORD_LENGTH } from "./wordle.ts";

const SERIAL_CHANNEL = 1;
const WORDLE_CHANNEL = 2;

const MOVE_CURSOR_UP = "\x1b[5A";
const CLEAR_TERMINAL_BELOW_CURSOR = "\x1b[0J";
const GREEN = "\x1b[32;1;40m";
const YELLOW = "\x1b[39;103m";
const DEFAULT_COLOUR = "\x1b[0m";

const BACKSPACE = 0x7f;
const RETURN = 0x0d;

interface Cell {
  ch: string | undefined;
  state: CharacterState;
}

const emptyRow = (): Cell[] =>
  Array.from({ length: WORD_LENGTH }, () => ({ ch: undefined, state: CharacterState.INCORRECT }));

// A factory: each boot (and each PD running this program) starts with an empty board.
export default definePd(() => {
  const table: Cell[][] = Array.from({ length: NUM_TRIES }, emptyRow);
  let currRow = 0;
  let currLetter = 0;

  /** Leaves `text` NUL-terminated in the shared page and has the serial server print it. */
  function serialSend(pd: Pd, text: string): void {
    const page = pd.memory.view(pd.setvars.client_to_serial_vaddr, 0x1000);
    const bytes = Buffer.from(text, "latin1");
    page.set(bytes);
    page[bytes.length] = 0;
    // The serial server has the higher priority: it prints before notify returns, so the
    // page can be reused at once.
    pd.notify(SERIAL_CHANNEL);
  }

  function wordleServerSend(pd: Pd): void {
    if (((pd.pps >> BigInt(WORDLE_CHANNEL)) & 1n) === 0n) return;
    const row = table[currRow]!;
    row.forEach((cell, i) => pd.mrSet(i, cell.ch!.charCodeAt(0)));
    pd.ppcall(WORDLE_CHANNEL, pd.msginfoNew(0, WORD_LENGTH));
    row.forEach((cell, i) => (cell.state = Number(pd.mrGet(i)) as CharacterState));
  }

  function printTable(pd: Pd, clearTerminal: boolean): void {
    if (clearTerminal) {
      // Redraw in place: up over the five rows, then clear everything below the cursor.
      serialSend(pd, MOVE_CURSOR_UP);
      serialSend(pd, CLEAR_TERMINAL_BELOW_CURSOR);
    }
    for (const row of table) {
      for (const cell of row) {
        serialSend(pd, "[");
        if (cell.ch !== undefined) {
          if (cell.state === CharacterState.CORRECT_PLACEMENT) serialSend(pd, GREEN);
          else if (cell.state === CharacterState.INCORRECT_PLACEMENT) serialSend(pd, YELLOW);
          serialSend(pd, cell.ch);
          serialSend(pd, DEFAULT_COLOUR);
        } else {
          serialSend(pd, " ");
        }
        serialSend(pd, "] ");
      }
      serialSend(pd, "\n");
    }
  }

  const isLetter = (ch: number): boolean => (ch >= 0x61 && ch <= 0x7a) || (ch >= 0x41 && ch <= 0x5a);

  function addCharToTable(pd: Pd, ch: number): void {
    // Every row used: the game is over.
    if (currRow === NUM_TRIES) return;
    const row = table[currRow]!;
    if (ch === BACKSPACE) {
      if (currLetter > 0) {
        currLetter--;
        row[currLetter]!.ch = undefined;
      }
    } else if (isLetter(ch) && currLetter !== WORD_LENGTH) {
      row[currLetter]!.ch = String.fromCharCode(ch);
      currLetter++;
    }
    if (ch === RETURN && currLetter === WORD_LENGTH) {
      wordleServerSend(pd);
      currRow++;
      currLetter = 0;
    }
  }

  return {
    init(pd: Pd) {
      pd.dbgPuts("CLIENT: starting\n");
      serialSend(pd, "Welcome to the Wordle client!\n");
      // The first drawing: nothing to clear yet.
      printTable(pd, false);
    },

    notified(pd: Pd, channel: number) {
      if (channel !== SERIAL_CHANNEL) return;
      const ch = pd.memory.read8(pd.setvars.serial_to_client_vaddr);
      addCharToTable(pd, ch);
      printTable(pd, true);
    },
  };
});
