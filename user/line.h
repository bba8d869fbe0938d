/*
 * Reading a command line from the console, with the editing a serial
 * terminal expects of the other end: every character echoed, backspace
 * erasing the last one, Enter ending the line.
 */
#ifndef USER_LINE_H
#define USER_LINE_H

#define LINE_MAX 256

/* Reads one line into `line` (NUL-terminated, without its end) and returns
 * its length, or the negative error of SYS_READ. Bytes typed past LINE_MAX
 * are dropped; bytes typed after the end of the line are kept for the next
 * call. */
long line_read(char line[LINE_MAX + 1]);

#endif
