/* Context switches between the test and a second context on the heap. */
#include <stdnoreturn.h>

#include "context.h"
#include "ktest/ktest.h"
#include "mm/mm.h"

#define STACK_BYTES (16ul * 1024)
#define ROUNDS 1000

struct ping_pong {
    struct context test, partner;
    unsigned partner_rounds;
};

static noreturn void partner(void *argument)
{
    struct ping_pong *game = argument;
    for (;;) {
        game->partner_rounds++;
        context_switch(&game->partner, &game->test);
    }
}

static uint64_t read_cycle(void)
{
    uint64_t cycles;
    asm volatile("rdcycle %0" : "=r"(cycles));
    return cycles;
}

KTEST(context, switch_runs_the_other_context_and_comes_back)
{
    uint8_t *stack = kmalloc(STACK_BYTES);
    KTEST_ASSERT(t, stack != NULL);
    struct ping_pong game = {.partner_rounds = 0};
    context_prepare(&game.partner, (uintptr_t)(stack + STACK_BYTES), partner, &game);
    uint64_t start = read_cycle();
    for (unsigned i = 0; i < ROUNDS; i++)
        context_switch(&game.test, &game.partner);
    uint64_t cycles = read_cycle() - start;
    KTEST_EXPECT_EQ(t, game.partner_rounds, ROUNDS);
    /* Two switches a round. */
    ktest_note(t, "context_switch cycles=%lu", cycles / (2 * ROUNDS));
    kfree(stack);
}
