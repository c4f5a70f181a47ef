/* provider/prov_err.c - the one place a kf_result becomes an OpenSSL error. */
#include "provider/prov.h"

#include <stdarg.h>

static void prov_set_error(struct kf_prov *prov, uint32_t reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    prov->core_vset_error(prov->handle, reason, fmt, ap);
    va_end(ap);
}

void kf_prov_raise(struct kf_prov *prov, kf_result r)
{
    if (prov == NULL || prov->core_new_error == NULL || prov->core_vset_error == NULL) {
        return;
    }
    const char *file = NULL;
    const char *func = NULL;
    int line = 0;
    kf_err_last_site(&file, &line, &func);
    char msg[768];
    kf_err_describe(msg, sizeof(msg));
    prov->core_new_error(prov->handle);
    if (prov->core_set_error_debug != NULL) {
        prov->core_set_error_debug(prov->handle, file, line, func);
    }
    /* The reason is the kf error code, whose text is in the table kf_error.def makes (prov.c,
     * get_reason_strings); the data names the object and the CKR_ code, never a secret. */
    prov_set_error(prov, (uint32_t)r.code, "%s", msg);
}
