/*
 * The Wordle server of the Microkit tutorial's game, written in C for virtkit: it answers the
 * client's guess (five letters in MR0-MR4, over a PPC on channel 1) with the state of each letter,
 * and from part 4 on takes a new word from the VMM (channel 2).
 */
#include <stdint.h>
#include <microkit.h>
#include "wordle.h"

#define CLIENT_CHANNEL 1
#define VMM_CHANNEL 2

static char word[WORD_LENGTH] = { 'h', 'e', 'l', 'l', 'o' };

static char lower(seL4_Word mr)
{
    char c = (char)(mr & 0xff);
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Green for letters in place, yellow for letters elsewhere in the word, each letter of the word used once. */
static void check_guess(const char guess[WORD_LENGTH], enum character_state states[WORD_LENGTH])
{
    int used[WORD_LENGTH] = { 0 };
    for (int i = 0; i < WORD_LENGTH; i++) {
        states[i] = guess[i] == word[i] ? CORRECT_PLACEMENT : INCORRECT;
        if (states[i] == CORRECT_PLACEMENT) used[i] = 1;
    }
    for (int i = 0; i < WORD_LENGTH; i++) {
        if (states[i] == CORRECT_PLACEMENT) continue;
        for (int j = 0; j < WORD_LENGTH; j++) {
            if (!used[j] && guess[i] == word[j]) {
                states[i] = INCORRECT_PLACEMENT;
                used[j] = 1;
                break;
            }
        }
    }
}

void init(void)
{
    microkit_dbg_puts("WORDLE SERVER: starting\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}

microkit_msginfo protected(microkit_channel ch, microkit_msginfo msginfo)
{
    (void)msginfo;
    char letters[WORD_LENGTH];
    for (int i = 0; i < WORD_LENGTH; i++) letters[i] = lower(microkit_mr_get(i));
    switch (ch) {
    case CLIENT_CHANNEL: {
        enum character_state states[WORD_LENGTH];
        check_guess(letters, states);
        for (int i = 0; i < WORD_LENGTH; i++) microkit_mr_set(i, states[i]);
        return microkit_msginfo_new(0, WORD_LENGTH);
    }
    case VMM_CHANNEL:
        for (int i = 0; i < WORD_LENGTH; i++) word[i] = letters[i];
        break;
    default:
        microkit_dbg_puts("ERROR!\n");
    }
    return microkit_msginfo_new(0, 0);
}
