#include "orderbase_shims.h"
#include "../../include/orderbase.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

/* OpenSSL 3 looks the algorithm up on every EVP_sha256() use; fetch it once. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static void fetch_sha256(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

void ob_sha256(const void *data, size_t len, uint8_t out[32]) {
    unsigned int n = 32;
    pthread_once(&sha256_once, fetch_sha256);
    EVP_Digest(data, len, out, &n, sha256_md ? sha256_md : EVP_sha256(), NULL);
}

void *ob_sha256_begin(void) {
    pthread_once(&sha256_once, fetch_sha256);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c && EVP_DigestInit_ex(c, sha256_md ? sha256_md : EVP_sha256(), NULL) != 1) { EVP_MD_CTX_free(c); return NULL; }
    return c;
}

void ob_sha256_update(void *ctx, const void *data, size_t len) { EVP_DigestUpdate((EVP_MD_CTX *)ctx, data, len); }

void ob_sha256_end(void *ctx, uint8_t out[32]) {
    uint8_t scratch[32];
    unsigned int n = 32;
    EVP_DigestFinal_ex((EVP_MD_CTX *)ctx, out ? out : scratch, &n);
    EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
}

int ob_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32]) {
    unsigned int n = 32;
    return HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) == NULL ? -1 : 0;
}

int ob_random_bytes(void *buf, size_t len) {
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

/* One slot per thread. The strings live until the thread's next error or clear. */
static _Thread_local orderbase_error tl_error = {0, "ok", "ok", "{\"error\":null}"};
static _Thread_local char *tl_category, *tl_message, *tl_json;

static char *dup_or(const char *s, const char *fallback) {
    char *d = strdup(s ? s : fallback);
    return d;
}

void ob_error_clear(void) {
    free(tl_category); free(tl_message); free(tl_json);
    tl_category = tl_message = tl_json = NULL;
    tl_error.code = 0;
    tl_error.category = "ok";
    tl_error.message = "ok";
    tl_error.json = "{\"error\":null}";
}

void ob_error_set(int code, const char *category, const char *message, const char *json) {
    ob_error_clear();
    tl_category = dup_or(category, "internal");
    tl_message = dup_or(message, "");
    tl_json = dup_or(json, "{\"error\":{\"code\":\"internal\",\"message\":\"\"}}");
    tl_error.code = code;
    /* strdup can fail only under memory exhaustion: keep static text then. */
    tl_error.category = tl_category ? tl_category : "internal";
    tl_error.message = tl_message ? tl_message : "out of memory";
    tl_error.json = tl_json ? tl_json : "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
}

const struct orderbase_error *ob_error_get(void) { return &tl_error; }
