#include "context.h"

extern char context_first_entry[];

void context_prepare(struct context *context, uintptr_t stack_top,
                     void (*entry)(void *argument), void *argument)
{
    *context = (struct context){
        .ra = (uintptr_t)context_first_entry,
        .sp = stack_top,
        .s = {[0] = 0, [1] = (uintptr_t)entry, [2] = (uintptr_t)argument},
    };
}
