/* Private helpers compiled into liborderbase.so; not part of the public ABI. */
#ifndef ORDERBASE_SHIMS_H
#define ORDERBASE_SHIMS_H
#include <stddef.h>
#include <stdint.h>

/* SHA-256 / HMAC-SHA256 through OpenSSL's libcrypto (one crypto dependency for
   the audit hash chain now and webhook signatures later). out must hold 32 bytes. */
void ob_sha256(const void *data, size_t len, uint8_t out[32]);
int ob_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32]);
/* Incremental SHA-256 (files hashed as they stream): NULL when out of memory. */
void *ob_sha256_begin(void);
void ob_sha256_update(void *ctx, const void *data, size_t len);
/* Writes the digest and frees ctx; out may be NULL to only free it. */
void ob_sha256_end(void *ctx, uint8_t out[32]);
/* Fills buf with cryptographically secure random bytes; returns 0 on success. */
int ob_random_bytes(void *buf, size_t len);

/* The calling thread's last-error slot (owned here, never NULL once read).
   Strings are copied. */
struct orderbase_error;
void ob_error_set(int code, const char *category, const char *message, const char *json);
void ob_error_clear(void);
const struct orderbase_error *ob_error_get(void);

#endif
