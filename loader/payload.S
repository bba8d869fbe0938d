/* The kernel ELF, carried inside the loader image. PAYLOAD_FILE is set by
 * the build, which checked the ELF before writing it. */
    .section .payload, "a"
    .balign 4096
    .globl payload_start, payload_end
payload_start:
    .incbin PAYLOAD_FILE
payload_end:
