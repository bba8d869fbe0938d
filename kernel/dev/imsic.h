/* The IMSIC's interrupt files, as the APLIC in MSI mode uses them (imsic.c). */
#ifndef KERNEL_DEV_IMSIC_H
#define KERNEL_DEV_IMSIC_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/dev.h"

/* How many harts have an S-level interrupt file on this IMSIC chip: none
 * on machine mode's IMSIC, firmware's. */
uint32_t imsic_file_count(const struct irq_chip *imsic);

/* A new interrupt identity on `hart`'s S-level file, where `action` runs
 * when an MSI writes it: its number (*identity) and the hart index an
 * APLIC's target register names that file by (*hart_index, from the
 * file's address as the AIA lays it out). False if the hart has no file
 * here. In Main: each hart enables its identities in Late. */
bool imsic_route(struct irq_chip *imsic, uint64_t hart, struct irq_action action,
                 uint32_t *identity, uint32_t *hart_index);

#endif
