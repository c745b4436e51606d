// The Wordle tutorial's server: answers the client's guesses over PPC and, from part 4 on,
// takes a new word from the VMM.

import { definePd, type Pd } from "../../src/microkit/index.ts";
import { CharacterState, WORD_LENGTH } from "./wordle.ts";

const CLIENT_CHANNEL = 1;
const VMM_CHANNEL = 2;

/** Green for letters in place, yellow for letters elsewhere in the word (each counted once). */
function calculateStates(word: string, guess: string): CharacterState[] {
  const remaining = new Map<string, number>();
  for (const letter of word) remaining.set(letter, (remaining.get(letter) ?? 0) + 1);
  const states: CharacterState[] = [];
  for (let i = 0; i < WORD_LENGTH; i++) {
    if (guess[i] === word[i]) {
      states.push(CharacterState.CORRECT_PLACEMENT);
      remaining.set(guess[i]!, remaining.get(guess[i]!)! - 1);
    } else {
      states.push(CharacterState.INCORRECT);
    }
  }
  for (let i = 0; i < WORD_LENGTH; i++) {
    const left = remaining.get(guess[i]!) ?? 0;
    if (states[i] === CharacterState.INCORRECT && left > 0) {
      states[i] = CharacterState.INCORRECT_PLACEMENT;
      remaining.set(guess[i]!, left - 1);
    }
  }
  return states;
}

/** MR0..MR4 as the five letters, lower-cased so that "HELLO" matches "hello". */
function lettersFromMessage(get: (mr: number) => bigint): string {
  let letters = "";
  for (let i = 0; i < WORD_LENGTH; i++) letters += String.fromCharCode(Number(get(i) & 0xffn));
  return letters.toLowerCase();
}

// A factory: each boot starts with the tutorial's word.
export default definePd(() => {
  /** "hello" until the VMM hands over a word fetched by the Linux guest. */
  let word = "hello";
  return {
    init(pd: Pd) {
      pd.dbgPuts("WORDLE SERVER: starting\n");
    },

    notified() {},

    protected(pd: Pd, channel: number) {
      switch (channel) {
        case CLIENT_CHANNEL: {
          const states = calculateStates(
            word,
            lettersFromMessage((mr) => pd.mrGet(mr)),
          );
          states.forEach((state, i) => pd.mrSet(i, state));
          return pd.msginfoNew(0, WORD_LENGTH);
        }
        case VMM_CHANNEL:
          word = lettersFromMessage((mr) => pd.mrGet(mr));
          break;
        default:
          pd.dbgPuts("ERROR!\n");
      }
      return pd.msginfoNew(0, 0);
    },
  };
});
