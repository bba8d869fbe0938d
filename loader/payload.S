/* The payload: the kernel ELF and the first user program's, behind a small
 * header (payload_header.c). PAYLOAD_FILE is set by the build, which checked both
 * ELFs before writing it. Page-aligned, as the format's offsets assume. */
    .section .payload, "a"
    .balign 4096
    .globl payload_start, payload_end
payload_start:
    .incbin PAYLOAD_FILE
payload_end:
