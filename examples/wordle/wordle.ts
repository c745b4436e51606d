// What the client and the Wordle server agree on (the tutorial's wordle.h).

export const WORD_LENGTH = 5;
export const NUM_TRIES = 5;

/** The state of one guessed letter, as the server returns it in a message register. */
export const CharacterState = {
  CORRECT_PLACEMENT: 0,
  INCORRECT_PLACEMENT: 1,
  INCORRECT: 2,
} as const;
export type CharacterState = (typeof CharacterState)[keyof typeof CharacterState];
