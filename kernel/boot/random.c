/*
 * Random numbers: not for secrets, for what must differ from boot to boot
 * and from hart to hart (heap canaries, test inputs). The boot seed comes
 * from the device tree's /chosen/rng-seed through BootInfo, else from the
 * clock; each hart runs its own xoshiro256** generator, seeded from the boot
 * seed and its hart id, so no hart waits for another to draw a number.
 */
#include <aubade/csr.h>
#include <aubade/log.h>

#include "boot/boot.h"

static uint64_t boot_seed;
static _Thread_local uint64_t state[4];

/* SplitMix64: spreads any seed, even 0, over well-mixed state words. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ul);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ul;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebul;
    return z ^ (z >> 31);
}

static uint64_t rotate_left(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void random_init(void)
{
    const uint8_t *seed = boot_info->rng_seed;
    uint32_t size = boot_info->rng_seed_size;
    uint64_t mix = 0;
    for (uint32_t i = 0; i < size; i++) {
        mix ^= (uint64_t)seed[i] << (8 * (i % 8));
        if (i % 8 == 7)
            boot_seed ^= splitmix64(&mix);
    }
    boot_seed ^= splitmix64(&mix);
    if (size == 0)
        boot_seed ^= read_time();
}

void random_init_hart(void)
{
    uint64_t x = boot_seed ^ (current_hart * 0xd1342543de82ef95ul);
    for (int i = 0; i < 4; i++)
        state[i] = splitmix64(&x);
}

uint64_t random_u64(void)
{
    /* The state is this hart's: a task moved between two of these steps
     * would finish on another hart's (thread_pointer.h). */
    uint64_t were_enabled = interrupts_disable();
    uint64_t result = rotate_left(state[1] * 5, 7) * 9;
    uint64_t t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotate_left(state[3], 45);
    interrupts_restore(were_enabled);
    return result;
}
