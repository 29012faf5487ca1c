/* Private helpers compiled into liborderbase.so; not part of the public ABI. */
#ifndef ORDERBASE_SHIMS_H
#define ORDERBASE_SHIMS_H
#include <stddef.h>
#include <stdint.h>

/* SHA-256 / HMAC-SHA256 through OpenSSL's libcrypto (one crypto dependency for
   the audit hash chain now and webhook signatures later). out must hold 32 bytes. */
void ob_sha256(const void *data, size_t len, uint8_t out[32]);
int ob_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32]);
/* Fills buf with cryptographically secure random bytes; returns 0 on success. */
int ob_random_bytes(void *buf, size_t len);

/* The calling thread's last-error slot (owned here, never NULL once read).
   Strings are copied. */
struct orderbase_error;
void ob_error_set(int code, const char *category, const char *message, const char *json);
void ob_error_clear(void);
const struct orderbase_error *ob_error_get(void);

#endif
