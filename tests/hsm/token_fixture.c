/* tests/hsm/token_fixture.c */
#include "tests/hsm/token_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void fixture_die(const char *what)
{
    fprintf(stderr, "token fixture: %s\n", what);
    abort();
}

static void fixture_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fixture_die(path);
    }
    fputs(text, f);
    fclose(f);
    chmod(path, 0600);
}

const char *kf_test_softhsm_module(void)
{
    static const char *const candidates[] = {
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    };
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        if (access(candidates[i], R_OK) == 0) {
            return candidates[i];
        }
    }
    fixture_die("libsofthsm2.so not found: run scripts/deps.sh");
    return NULL;
}

void kf_test_token_add(struct kf_test_token *t, const char *label)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd),
             "SOFTHSM2_CONF='%s' softhsm2-util --init-token --free --label '%s' "
             "--so-pin '%s' --pin '%s' >/dev/null",
             t->conf, label, KF_TEST_SO_PIN, KF_TEST_USER_PIN);
    if (system(cmd) != 0) {
        fixture_die("softhsm2-util --init-token failed");
    }
}

void kf_test_token_setup(struct kf_test_token *t, const char *label)
{
    memset(t, 0, sizeof(*t));
    const char *tmp = getenv("TMPDIR");
    snprintf(t->dir, sizeof(t->dir), "%s/kf-token-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(t->dir) == NULL) {
        fixture_die("mkdtemp");
    }
    char tokens[300];
    snprintf(tokens, sizeof(tokens), "%s/tokens", t->dir);
    if (mkdir(tokens, 0700) != 0) {
        fixture_die("mkdir tokens");
    }
    snprintf(t->conf, sizeof(t->conf), "%s/softhsm2.conf", t->dir);
    char conf[600];
    snprintf(conf, sizeof(conf),
             "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = "
             "ERROR\n"
             "slots.removable = false\n",
             tokens);
    fixture_write(t->conf, conf);
    snprintf(t->pin_file, sizeof(t->pin_file), "%s/user.pin", t->dir);
    fixture_write(t->pin_file, KF_TEST_USER_PIN "\n");
    snprintf(t->so_pin_file, sizeof(t->so_pin_file), "%s/so.pin", t->dir);
    fixture_write(t->so_pin_file, KF_TEST_SO_PIN "\n");
    snprintf(t->bad_pin_file, sizeof(t->bad_pin_file), "%s/bad.pin", t->dir);
    fixture_write(t->bad_pin_file, "not-the-pin\n");
    setenv("SOFTHSM2_CONF", t->conf, 1);
    setenv("KEYFORT_PKCS11_MODULE", kf_test_softhsm_module(), 1);
    if (label != NULL) {
        kf_test_token_add(t, label);
        snprintf(t->uri, sizeof(t->uri), "pkcs11:token=%s", label);
        snprintf(t->uri_with_pin, sizeof(t->uri_with_pin), "pkcs11:token=%s?pin-source=%s", label,
                 t->pin_file);
    }
}

void kf_test_token_teardown(struct kf_test_token *t)
{
    if (t->dir[0] == '\0') {
        return;
    }
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "token fixture: could not remove %s\n", t->dir);
    }
    t->dir[0] = '\0';
}
