/* What is typed on the console (console_rx.c). */
#ifndef CONSOLE_RX_H
#define CONSOLE_RX_H

#include <stddef.h>

/* Up to `size` bytes received since the last call, oldest first; 0 if none
 * came. Never waits. */
size_t console_read(char *buffer, size_t size);
/* Blocks the calling task until something has been typed. */
void console_wait_for_input(void);

#endif
