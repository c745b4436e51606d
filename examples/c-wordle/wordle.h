/*
 * What the client and the Wordle server agree on: the length of a word, the number of guesses and
 * the state of each guessed letter, which the server returns one per message register.
 */
#pragma once

#define WORD_LENGTH 5
#define NUM_TRIES 5

enum character_state { CORRECT_PLACEMENT = 0, INCORRECT_PLACEMENT = 1, INCORRECT = 2 };
