/*
 * The kernel heap: kmalloc, kzalloc, kfree.
 *
 * Every heap block comes from the frame allocator aligned to BLOCK_BYTES
 * and starts with a block header, so kfree finds the header of any object
 * by rounding its address down. A block is one of:
 *
 *   slab   BLOCK_BYTES cut into equal slots of one size class (16, 32, ...
 *          2048 bytes). Each class keeps a free list of its slots, linked
 *          through the free slots themselves, under its own lock. Slabs are
 *          never given back.
 *   large  one object too big for any class, in as many pages as it needs
 *          (the rest of the aligned block stays with the frame allocator);
 *          kfree gives it back to the frame allocator.
 *
 * Objects are 16-byte aligned: slots are powers of two of at least 16 bytes
 * starting 16-byte aligned, and a large object starts LARGE_OFFSET into its
 * block.
 *
 * With AUBADE_DEBUG (`scons debug=1`, the default) each object has an
 * object header just before it and a redzone just after it, to the end of
 * its slot (at least REDZONE_MIN bytes):
 *
 *   [ state | size ][ object: size bytes ][ redzone: canary bytes ]
 *
 * The state word says live or freed, keyed by the object's address; the
 * redzone holds a per-boot random pattern. kfree checks both: an
 * overwritten redzone is a heap-overflow, an object already freed a
 * heap-double-free. A pointer that is not the start of a heap object is a
 * heap-bad-pointer with or without AUBADE_DEBUG: the block header has to be
 * read anyway, and a wrong pointer would corrupt a free list.
 */
#include <aubade/csr.h>
#include <aubade/log.h>
#include <aubade/memmap.h>
#include <aubade/string.h>
#include <aubade/sv39.h>

#include "boot/boot.h"
#include "debug/debug.h"
#include "mm/mm.h"
#include "smp/smp.h"

#define BLOCK_BYTES (16ul * 1024)
#define MIN_SLOT_BYTES 16ul
#define CLASS_COUNT 8 /* 16 to 2048 bytes */
#define LARGE_OFFSET 64ul
#define MAX_SIZE (1ul << 40)
#define SLAB_MAGIC 0x42414c5341454821ul  /* XORed with the block's address */
#define LARGE_MAGIC 0x454752414c414821ul /* likewise */

struct block_header {
    uint64_t magic;
    uint32_t class_index; /* slab */
    uint32_t padding;
    uint64_t bytes; /* large: what frames_alloc gave, for frames_free */
};

/* Slots start after the block header, 16-byte aligned. */
#define FIRST_SLOT ((sizeof(struct block_header) + 15) & ~15ul)

struct size_class {
    struct spinlock lock;
    void *free; /* first free slot; each holds the next at its object */
};

static struct size_class classes[CLASS_COUNT];

static uint64_t slot_bytes(unsigned class_index)
{
    return MIN_SLOT_BYTES << class_index;
}

#ifdef AUBADE_DEBUG

#define OBJECT_HEADER_BYTES 16ul
#define REDZONE_MIN 8ul
#define STATE_LIVE 0x6576696c6a626f21ul  /* XORed with the object's address */
#define STATE_FREED 0x646565726a626f21ul /* likewise */

struct object_header {
    uint64_t state;
    uint64_t size;
};

static uint64_t canary;

static struct object_header *object_header(void *object)
{
    return (struct object_header *)((uintptr_t)object - OBJECT_HEADER_BYTES);
}

/* The redzone's byte at `address`: the canary's bytes, repeated. */
static uint8_t canary_byte(uintptr_t address)
{
    return (uint8_t)(canary >> (8 * (address % 8)));
}

static void debug_init(void)
{
    /* No zero byte: a stray terminating NUL past the end must show. */
    canary = random_u64() | 0x0101010101010101ul;
}

/* A slot that has never been handed out counts as freed. */
static void mark_freed(void *object)
{
    object_header(object)->state = STATE_FREED ^ (uintptr_t)object;
}

/* The object is handed out: live, `size` bytes, redzone up to `end`. */
static void mark_live(void *object, uint64_t size, uintptr_t end)
{
    struct object_header *header = object_header(object);
    header->state = STATE_LIVE ^ (uintptr_t)object;
    header->size = size;
    for (uintptr_t address = (uintptr_t)object + size; address < end; address++)
        *(uint8_t *)address = canary_byte(address);
}

/* The object comes back: it must be live and its redzone whole. */
static void check_and_mark_freed(void *object, uintptr_t end)
{
    struct object_header *header = object_header(object);
    if (header->state == (STATE_FREED ^ (uintptr_t)object))
        kernel_panic("heap-double-free", "object=%p size=%lu: freed already", object,
                     header->size);
    if (header->state != (STATE_LIVE ^ (uintptr_t)object))
        kernel_panic("heap-bad-pointer", "pointer=%p: in a heap block, not a live object",
                     object);
    for (uintptr_t address = (uintptr_t)object + header->size; address < end; address++)
        if (*(uint8_t *)address != canary_byte(address))
            kernel_panic("heap-overflow", "object=%p size=%lu: redzone written at %p (+%lu)",
                         object, header->size, (void *)address, address - (uintptr_t)object);
    mark_freed(object);
}

#else

#define OBJECT_HEADER_BYTES 0ul
#define REDZONE_MIN 0ul

static void debug_init(void)
{
}

static void mark_freed(void *object)
{
    (void)object;
}

static void mark_live(void *object, uint64_t size, uintptr_t end)
{
    (void)object, (void)size, (void)end;
}

static void check_and_mark_freed(void *object, uintptr_t end)
{
    (void)object, (void)end;
}

#endif

void heap_init(void)
{
    for (unsigned i = 0; i < CLASS_COUNT; i++)
        spin_lock_init(&classes[i].lock, "heap-class");
    debug_init();
    log_debug("mm", "heap", "classes=%d largest=%lu block=0x%lx object_header=%lu", CLASS_COUNT,
              slot_bytes(CLASS_COUNT - 1), BLOCK_BYTES, OBJECT_HEADER_BYTES);
}

static void *object_of_slot(uintptr_t slot)
{
    return (void *)(slot + OBJECT_HEADER_BYTES);
}

/* A new slab for the class, every slot on its free list (in address
 * order); false when memory is out. Called with the class's lock held. */
static bool refill(unsigned class_index)
{
    uint64_t phys = frames_alloc(BLOCK_BYTES, BLOCK_BYTES);
    if (phys == 0)
        return false;
    struct block_header *block = phys_to_virt(phys);
    block->magic = SLAB_MAGIC ^ (uintptr_t)block;
    block->class_index = class_index;
    uint64_t count = (BLOCK_BYTES - FIRST_SLOT) / slot_bytes(class_index);
    for (uint64_t i = count; i-- > 0;) {
        void *object = object_of_slot((uintptr_t)block + FIRST_SLOT + i * slot_bytes(class_index));
        mark_freed(object);
        *(void **)object = classes[class_index].free;
        classes[class_index].free = object;
    }
    return true;
}

static void *slab_alloc(unsigned class_index, uint64_t size)
{
    struct size_class *class = &classes[class_index];
    uint64_t were_enabled = spin_lock_irqsave(&class->lock);
    void *object = NULL;
    if (class->free != NULL || refill(class_index)) {
        object = class->free;
        class->free = *(void **)object;
        uintptr_t slot = (uintptr_t)object - OBJECT_HEADER_BYTES;
        mark_live(object, size, slot + slot_bytes(class_index));
    }
    spin_unlock_irqrestore(&class->lock, were_enabled);
    return object;
}

static void *large_alloc(uint64_t size)
{
    uint64_t bytes = align_up(LARGE_OFFSET + size + REDZONE_MIN, SV39_PAGE_SIZE);
    uint64_t phys = frames_alloc(bytes, BLOCK_BYTES);
    if (phys == 0)
        return NULL;
    struct block_header *block = phys_to_virt(phys);
    block->magic = LARGE_MAGIC ^ (uintptr_t)block;
    block->bytes = bytes;
    void *object = (void *)((uintptr_t)block + LARGE_OFFSET);
    mark_live(object, size, (uintptr_t)block + bytes);
    return object;
}

void *kmalloc(size_t size)
{
    /* 1. What the object takes with its debug header and redzone. Sizes
     * near 2^64 would wrap the sums; nothing near that can be had anyway. */
    if (size > MAX_SIZE)
        return NULL;
    uint64_t need = OBJECT_HEADER_BYTES + size + REDZONE_MIN;

    /* 2. The smallest class that holds it, else a large block. */
    for (unsigned class_index = 0; class_index < CLASS_COUNT; class_index++)
        if (need <= slot_bytes(class_index))
            return slab_alloc(class_index, size);
    return large_alloc(size);
}

void *kzalloc(size_t size)
{
    void *object = kmalloc(size);
    if (object != NULL)
        memset(object, 0, size);
    return object;
}

static noreturn void bad_pointer(void *pointer)
{
    kernel_panic("heap-bad-pointer", "pointer=%p: not a heap object", pointer);
}

/* The header of the heap block `pointer` would be in, if it can be read. */
static struct block_header *block_of(void *pointer)
{
    uintptr_t block = align_down((uintptr_t)pointer, BLOCK_BYTES);
    uint64_t phys = block - boot_info->direct_map_offset;
    if (block < boot_info->direct_map_offset || !frames_owns(phys, sizeof(struct block_header)))
        bad_pointer(pointer);
    return (struct block_header *)block;
}

static void slab_free(struct block_header *block, void *pointer)
{
    /* The pointer must be the object of a whole slot of this slab. */
    unsigned class_index = block->class_index;
    if (class_index >= CLASS_COUNT)
        bad_pointer(pointer);
    uintptr_t slots = (uintptr_t)block + FIRST_SLOT;
    uintptr_t slot = (uintptr_t)pointer - OBJECT_HEADER_BYTES;
    if (slot < slots || (slot - slots) % slot_bytes(class_index) != 0 ||
        slot + slot_bytes(class_index) > (uintptr_t)block + BLOCK_BYTES)
        bad_pointer(pointer);

    struct size_class *class = &classes[class_index];
    uint64_t were_enabled = spin_lock_irqsave(&class->lock);
    check_and_mark_freed(pointer, slot + slot_bytes(class_index));
    *(void **)pointer = class->free;
    class->free = pointer;
    spin_unlock_irqrestore(&class->lock, were_enabled);
}

static void large_free(struct block_header *block, void *pointer)
{
    if ((uintptr_t)pointer != (uintptr_t)block + LARGE_OFFSET)
        bad_pointer(pointer);
    check_and_mark_freed(pointer, (uintptr_t)block + block->bytes);
    uint64_t bytes = block->bytes;
    block->magic = 0; /* no longer a heap block */
    frames_free((uintptr_t)block - boot_info->direct_map_offset, bytes);
}

void kfree(void *pointer)
{
    if (pointer == NULL)
        return;
    struct block_header *block = block_of(pointer);
    if (block->magic == (SLAB_MAGIC ^ (uintptr_t)block))
        slab_free(block, pointer);
    else if (block->magic == (LARGE_MAGIC ^ (uintptr_t)block))
        large_free(block, pointer);
    else
        bad_pointer(pointer);
}
