/* tests/fuzz/replay_main.c - runs a fuzz target over stored inputs, without libFuzzer.
 *
 * Linked with each fuzz_<target>.c into <target>_replay, which ctest runs over
 * tests/fuzz/corpus/<target>/ (label fuzz), so every corpus and every past crasher is replayed
 * in every CI job, sanitizers included (STYLE.md s14; the model is knot's tests-fuzz/main.c).
 *
 * Usage: <target>_replay PATH...   A PATH is a file or a directory; a directory contributes its
 * regular files in name order (not recursively; names starting with '.' are skipped). Each
 * input is copied into a heap block of exactly its size, so ASan sees any read past its end.
 * Exit status: 0 when every input ran, 1 when a path could not be read or no input was found
 * (an empty or missing corpus must not pass silently). A finding aborts, as under libFuzzer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as in libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs larger than this are not fuzz inputs; refuse rather than allocate without bound. */
#define REPLAY_MAX_INPUT (64u * 1024u * 1024u)

static int replay_file(const char *path, size_t *count)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: not a regular file of at most %u bytes\n", path,
                REPLAY_MAX_INPUT);
        close(fd);
        return 1;
    }
    size_t size = (size_t)st.st_size;
    /* malloc(0) may return NULL; libFuzzer never passes NULL, so neither do we. */
    uint8_t *data = malloc(size > 0 ? size : 1);
    if (data == NULL) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        close(fd);
        return 1;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t got = read(fd, data + done, size - done);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            fprintf(stderr, "replay: %s: short read\n", path);
            free(data);
            close(fd);
            return 1;
        }
        done += (size_t)got;
    }
    close(fd);
    /* Named before running, so the log of a crash says which input it was. */
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
    (void)LLVMFuzzerTestOneInput(data, size);
    free(data);
    (*count)++;
    return 0;
}

static int skip_dotfiles(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

static int replay_dir(const char *dir, size_t *count)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, skip_dotfiles, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        int len = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        struct stat st;
        if (len < 0 || (size_t)len >= sizeof(path)) {
            fprintf(stderr, "replay: %s/%s: path too long\n", dir, names[i]->d_name);
            rc = 1;
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rc |= replay_file(path, count);
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE-OR-DIR...\n", argv[0]);
        return 1;
    }
    if (LLVMFuzzerInitialize != NULL) {
        (void)LLVMFuzzerInitialize(&argc, &argv);
    }
    size_t count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            rc |= replay_dir(argv[i], &count);
        } else {
            rc |= replay_file(argv[i], &count);
        }
    }
    if (count == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    fprintf(stderr, "replay: %zu inputs, all ran to completion\n", count);
    return rc;
}
