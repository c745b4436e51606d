/*
 * The client of the Microkit tutorial's Wordle, in C: keeps the board, draws it through the serial
 * server and, with a channel to the Wordle server (part 3), has each finished guess coloured by it
 * over a PPC. Without that channel (part 2) guesses are drawn but not checked.
 */
#include <stdint.h>
#include <microkit.h>
#include "wordle.h"

#define SERIAL_CHANNEL 1
#define WORDLE_CHANNEL 2

#define MOVE_CURSOR_UP "\033[5A"
#define CLEAR_TERMINAL_BELOW_CURSOR "\033[0J"
#define GREEN "\033[32;1;40m"
#define YELLOW "\033[39;103m"
#define DEFAULT_COLOUR "\033[0m"

#define BACKSPACE 0x7f
#define RETURN '\r'
#define SHARED_PAGE_SIZE 0x1000

/* Patched by the <map>s' setvar_vaddr. */
uintptr_t serial_to_client_vaddr;
uintptr_t client_to_serial_vaddr;

struct cell {
    char ch; /* 0 while the cell is empty */
    enum character_state state;
};

static struct cell table[NUM_TRIES][WORD_LENGTH];
static int curr_row;
static int curr_letter;

/*
 * Leaves `s` NUL-terminated in the shared page and has the serial server print it. The serial
 * server has the higher priority, so it prints before microkit_notify returns and the page can be
 * written again at once.
 */
static void serial_send(const char *s)
{
    char *page = (char *)client_to_serial_vaddr;
    int i = 0;
    for (; s[i] != 0 && i < SHARED_PAGE_SIZE - 1; i++) page[i] = s[i];
    page[i] = 0;
    microkit_notify(SERIAL_CHANNEL);
}

static void wordle_server_send(void)
{
    if (!((microkit_pps >> WORDLE_CHANNEL) & 1)) return;
    for (int i = 0; i < WORD_LENGTH; i++) microkit_mr_set(i, (uint8_t)table[curr_row][i].ch);
    microkit_ppcall(WORDLE_CHANNEL, microkit_msginfo_new(0, WORD_LENGTH));
    for (int i = 0; i < WORD_LENGTH; i++) table[curr_row][i].state = (enum character_state)microkit_mr_get(i);
}

static void print_table(int clear_terminal)
{
    if (clear_terminal) {
        /* Redraw in place: up over the rows, then clear everything below the cursor. */
        serial_send(MOVE_CURSOR_UP);
        serial_send(CLEAR_TERMINAL_BELOW_CURSOR);
    }
    for (int row = 0; row < NUM_TRIES; row++) {
        for (int i = 0; i < WORD_LENGTH; i++) {
            const struct cell *cell = &table[row][i];
            serial_send("[");
            if (cell->ch != 0) {
                if (cell->state == CORRECT_PLACEMENT) serial_send(GREEN);
                else if (cell->state == INCORRECT_PLACEMENT) serial_send(YELLOW);
                char letter[2] = { cell->ch, 0 };
                serial_send(letter);
                serial_send(DEFAULT_COLOUR);
            } else {
                serial_send(" ");
            }
            serial_send("] ");
        }
        serial_send("\n");
    }
}

static int is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void add_char_to_table(char c)
{
    /* Every row used: the game is over. */
    if (curr_row == NUM_TRIES) return;
    struct cell *row = table[curr_row];
    if (c == BACKSPACE) {
        if (curr_letter > 0) {
            curr_letter--;
            row[curr_letter].ch = 0;
        }
    } else if (is_letter(c) && curr_letter != WORD_LENGTH) {
        row[curr_letter].ch = c;
        /* Unchecked until the Wordle server answers (the zeroed table would say CORRECT_PLACEMENT). */
        row[curr_letter].state = INCORRECT;
        curr_letter++;
    }
    if (c == RETURN && curr_letter == WORD_LENGTH) {
        wordle_server_send();
        curr_row++;
        curr_letter = 0;
    }
}

void init(void)
{
    microkit_dbg_puts("CLIENT: starting\n");
    serial_send("Welcome to the Wordle client!\n");
    /* The first drawing: nothing to clear yet. */
    print_table(0);
}

void notified(microkit_channel ch)
{
    if (ch != SERIAL_CHANNEL) return;
    add_char_to_table(*(volatile char *)serial_to_client_vaddr);
    print_table(1);
}
